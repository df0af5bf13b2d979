// The Redis pod's supervisor: while redis-server runs, keep the pod honest. Every second it asks Redis for its
// ROLE; on a change, and every LAUNCHER_RECONCILE_MS, it observes the Sentinels and the pod's label, decides with
// reconcile() and acts (label, heal). On SIGTERM a master hands over before Redis stops.
import { TlsReloader } from '../../runtime/tls-reload.ts';
import type { PasswordRotator } from '../../runtime/password-rotation.ts';
import { redisPasswordRotator } from './password.ts';
import type { Config } from '../../config/types.ts';
import { apiFailure, type Kube } from '../../kube/api.ts';
import { FenceLoop } from './fence-loop.ts';
import { handOver } from './handover.ts';
import { act } from './act.ts';
import { redisLiveness, redisReadinessCheck, volumeSpace } from './probes.ts';
import { PeriodicLoop } from '../../runtime/loop.ts';
import { emitEvent } from '../../kube/events.ts';
import { annotateData, currentPod } from '../../kube/pods.ts';
import { dataDirHasData } from '../../redis/data-dir.ts';
import { observeSentinels } from '../observe.ts';
import { currentRecord } from '../../kube/record.ts';
import { log } from '../../runtime/log.ts';
import { setRole, type RedisMetrics } from '../../runtime/metrics.ts';
import { addr, sameAddress, type Address, type RoleAnswer, type SentinelView } from '../../model.ts';
import { reconcile, sentinelMaster, type Action } from '../rules/reconcile.ts';
import { askRole, askSentinel, localRedis, probeOptions, withRedis } from '../../redis/client.ts';
import { TICK_MS } from '../../runtime/loop.ts';
import type { Engine } from '../../engines.ts';
import { engineHold } from './candidacy.ts';
import { priorityToSet } from '../rules/priority.ts';
import { CandidateListing } from './candidate-listing.ts';

/**
 * How long a replica's link may stay down before it is told: twice a failover's timeout (a full sync after a
 * failover fits in it), at least 10 s.
 */
const linkDownTellMs = (c: Config) => Math.max(10_000, 2 * c.failoverTimeoutMs);

export class RedisSupervisor extends PeriodicLoop {
  private readonly c: Config;
  private readonly kube: Kube;
  private readonly metrics: RedisMetrics;
  private readonly local: Address;
  private readonly self: Address;
  private lastRole?: string;
  private lastFull = 0;
  private lastSentence = '';
  private knownSentinels = 1;
  /** Set when SIGTERM's handover begins: the loop is not started again after that. */
  private shuttingDown = false;
  /** The master's fence, on a loop of its own (src/sentinel/redis-container/fence-loop.ts). */
  private readonly fence: FenceLoop;
  /** False while a replica has not finished its first full sync since it started (replica-priority 0 till then). */
  private candidate: boolean;
  /** This pod's engine, and why another replica could not follow it if it were promoted (candidacy.ts). */
  private readonly engine?: Engine;
  private engineHold?: string;
  /** The replica-priority last set (or rendered at start), and whether a hold by engines was told. */
  private priority: string;
  private heldTold: boolean;
  /** Once raised after its first sync: whether the Sentinels list it as a candidate yet (readiness waits). */
  private readonly listing: CandidateListing;
  private readonly pod: { name: string };
  /** Since when this replica's link has been down, and whether that was told (once per outage). */
  private linkDownSince?: number;
  private linkDownTold = false;
  /** The password rotation (redis-container/password.ts), when a password file is mounted. */
  private readonly password?: PasswordRotator;
  /** The TLS files' fingerprint Redis has loaded, and when they were last looked at. */
  private readonly tls: TlsReloader;

  constructor(
    c: Config,
    kube: Kube,
    metrics: RedisMetrics,
    opts: { candidateOnceSynced?: boolean; engine?: Engine; engineHold?: string } = {},
  ) {
    super();
    this.c = c;
    this.kube = kube;
    this.tls = new TlsReloader(c, kube);
    this.metrics = metrics;
    this.candidate = !opts.candidateOnceSynced;
    this.listing = new CandidateListing(!this.candidate);
    this.engine = opts.engine;
    this.engineHold = opts.engineHold;
    this.priority = this.candidate && !this.engineHold ? String(c.replicaPriority) : '0';
    this.heldTold = false;
    this.pod = { name: c.podName };
    this.local = localRedis(c);
    this.self = { host: c.podHost, port: c.redisPort };
    this.fence = new FenceLoop(c, kube, metrics);
    this.password = redisPasswordRotator(c, kube);
  }

  /** Starts the loops, unless the pod is already shutting down (a loading master that got SIGTERM). */
  start(everyMs: number) {
    if (this.shuttingDown) return;
    super.start(everyMs);
    this.fence.start(everyMs);
  }

  stop() {
    super.stop();
    this.fence.stop();
  }

  /** Every Sentinel's answer, and how many Sentinel pods there are (the last count when the API fails). */
  private async sentinelViews(): Promise<{ views: SentinelView[]; known: number }> {
    try {
      const seen = await observeSentinels(this.c, this.kube);
      this.knownSentinels = seen.known;
      return seen;
    } catch {
      const own = { host: this.c.podHost, port: this.c.sentinelPort };
      return { views: [await askSentinel(own, this.c.masterSet, probeOptions(this.c))], known: this.knownSentinels };
    }
  }

  /** Every second: ROLE; on a change, and every LAUNCHER_RECONCILE_MS, a full cycle. */
  protected async cycleOnce(): Promise<void> {
    await this.tls.check(this.local);
    await this.password?.check();
    const local = await askRole(this.local, probeOptions(this.c));
    const role = local.answered ? local.role : 'unknown';
    setRole(this.metrics, role);
    if (local.answered && local.role !== 'sentinel') {
      this.metrics.offset.set(local.offset);
      this.metrics.masterLinkUp.set(local.role === 'master' || local.linkState === 'connected' ? 1 : 0);
    }
    if (local.answered && local.role === 'slave') await this.replicaCheck(local);
    const previous = this.lastRole;
    const changed = previous !== undefined && role !== previous && role !== 'unknown';
    if (changed) this.onRoleChange(previous, local);
    if (role !== 'unknown') this.lastRole = role;
    // A replica whose link is down is looked at every tick: it may have been left following a gone master.
    const linkDown = local.answered && local.role === 'slave' && local.linkState !== 'connected';
    if (changed || linkDown || Date.now() - this.lastFull >= this.c.reconcileMs) {
      this.lastFull = Date.now();
      await this.cycle(local);
    }
  }

  /**
   * Sets replica-priority as rules/priority.ts says, from what Redis has now: 0 whenever this replica must not be
   * promoted (whoever raised it), the setting again only over its own 0. A hold by engines, and its end, are told.
   */
  private async applyPriority() {
    const held = this.engineHold;
    try {
      await withRedis(this.local, probeOptions(this.c), async (r) => {
        const now = String(((await r.call('CONFIG', 'GET', 'replica-priority')) as string[])[1]);
        const input = { held, synced: this.candidate, setting: this.c.replicaPriority, now, lastSet: this.priority };
        const change = priorityToSet(input);
        if (!change) return;
        await r.call('CONFIG', 'SET', 'replica-priority', change.set);
        this.priority = change.set;
        log.info(`replica-priority ${change.set}: ${change.why}`);
      });
    } catch (e) {
      log.warn(`could not set replica-priority: ${(e as Error).message}; trying again`);
      return;
    }
    if (Boolean(held) !== this.heldTold) {
      const [type, reason] = held
        ? (['Warning', 'NotFailoverCandidate'] as const)
        : (['Normal', 'FailoverCandidate'] as const);
      void emitEvent(this.kube, this.pod, type, reason, `${this.pod.name} is ${held ?? 'a failover candidate again'}`);
      this.heldTold = Boolean(held);
    }
  }

  /**
   * A replica of a master with data becomes a failover candidate once its first full sync is done (and no
   * other replica's engine holds it back); a link down for twice SENTINEL_FAILOVER_TIMEOUT_MS (at least 10 s) is
   * told once, with the data volume's free space (a full disk fails every full sync).
   */
  private async replicaCheck(local: Extract<RoleAnswer, { role: 'slave' }>) {
    const now = Date.now();
    if (local.linkState === 'connected') {
      this.linkDownSince = undefined;
      this.linkDownTold = false;
      if (this.candidate) return;
      log.info('first full sync done');
      this.candidate = true;
      await this.applyPriority();
      if (this.engineHold || this.c.replicaPriority === 0) this.listing.noCandidate();
      else this.listing.synced(now);
      return;
    }
    this.linkDownSince ??= now;
    if (this.linkDownTold || now - this.linkDownSince < linkDownTellMs(this.c)) return;
    this.linkDownTold = true;
    const space = await volumeSpace(this.c.dataDir);
    const secs = Math.round((now - this.linkDownSince) / 1000);
    const link = `link ${local.linkState}`;
    const what = `the replica has not been in sync with ${addr(local.master)} for ${secs} s (${link}); ${space}`;
    log.warn(what);
    void emitEvent(this.kube, { name: this.c.podName }, 'Warning', 'ReplicaNotSyncing', what);
  }

  private onRoleChange(from: string, now: RoleAnswer) {
    if (!now.answered) return;
    if (now.role === 'master') {
      this.listing.noCandidate();
      this.metrics.promotions.inc();
      log.info(`Redis changed from ${from} to master`);
      const what = `Redis on ${this.pod.name} is now master (was ${from})`;
      void emitEvent(this.kube, this.pod, 'Normal', 'BecameMaster', what);
    } else if (now.role === 'slave') {
      log.info(`Redis changed from ${from} to replica of ${addr(now.master)}`);
      const what = `Redis on ${this.pod.name} is now a replica of ${addr(now.master)} (was ${from})`;
      void emitEvent(this.kube, this.pod, 'Normal', 'BecameReplica', what);
    }
  }

  /** One observe -> decide -> act cycle; ends in one logged sentence when something changed. */
  async cycle(local: RoleAnswer): Promise<Action> {
    const t0 = performance.now();
    const [{ views: sentinels, known }, pod, record, hasData] = await Promise.all([
      this.sentinelViews(),
      currentPod(this.kube, this.c.podName),
      currentRecord(this.kube, this.c.masterRecord).then(
        (r) => ({ pod: r?.pod ?? '', paused: r?.paused }),
        () => undefined,
      ),
      dataDirHasData(this.c.dataDir),
    ]);
    // Peers decide on this annotation at their boot: it follows the data dir (e.g. after the first full sync).
    if (pod.data !== (hasData ? 'present' : 'empty')) {
      await annotateData(this.kube, this.c.podName, hasData).catch((e: unknown) =>
        log.warn(`could not publish this pod's data status: ${apiFailure(e).message}`),
      );
    }
    const want = local.answered
      ? ({ master: 'master', slave: 'slave' } as Record<string, string>)[local.role]
      : undefined;
    if (want) this.metrics.labelMatchesRole.set(pod.roleLabel === want ? 1 : 0);
    this.metrics.labelledMaster.set(pod.roleLabel === 'master' ? 1 : 0);
    this.metrics.paused.set(record?.paused ? 1 : 0);
    const named = sentinelMaster(sentinels, this.c.quorum, known).master;
    // Whether another pod could not follow this one (candidacy.ts); unreadable pods keep the last judgement.
    this.engineHold = await engineHold(this.c, this.kube, this.engine, named ?? undefined).catch(() => this.engineHold);
    if (local.answered && local.role === 'slave') await this.applyPriority();
    const namedMasterRole =
      named && !sameAddress(named, this.self) ? await askRole(named, probeOptions(this.c)) : undefined;
    if (local.answered && local.role === 'master') this.metrics.lag.set(0);
    if (local.answered && local.role === 'slave') {
      const m = await askRole(local.master, probeOptions(this.c));
      if (m.answered && m.role === 'master') this.metrics.lag.set(Math.max(0, m.offset - local.offset));
    }
    const action = reconcile({
      self: this.self,
      quorum: this.c.quorum,
      knownSentinels: known,
      local,
      label: pod.roleLabel,
      sentinels,
      podName: this.c.podName,
      record: record?.pod,
      namedMasterRole,
    });
    this.metrics.decisionSeconds.set((performance.now() - t0) / 1000);
    // Maintenance mode (`launcher pause`): observe and report, take no action.
    const paused = record?.paused && action.kind !== 'none' ? `paused since ${record.paused}, so not done` : '';
    if (!paused) await act(action, this.c, this.kube, this.metrics);
    const done = paused ? `; ${paused}` : '';
    const sentence = `${action.kind === 'none' ? 'no action' : action.kind}: ${action.reason}${done}`;
    if ((action.kind !== 'none' && !paused) || sentence !== this.lastSentence) log.info(sentence);
    this.lastSentence = sentence;
    return action;
  }

  // ---- probes ----

  async liveness(): Promise<{ ok: boolean; reason: string }> {
    const stuck = this.stuckFor(3 * (TICK_MS + this.c.probeTimeoutMs * 4));
    if (stuck !== undefined) return { ok: false, reason: `supervisor loop has not run for ${stuck} ms` };
    return redisLiveness(this.c);
  }

  async readiness(): Promise<{ ok: boolean; reason: string }> {
    const { views, known } = await this.sentinelViews();
    const candidate = await this.listing.check(this.c, views, known, this.priority);
    const r = await redisReadinessCheck(this.c, views, known, candidate);
    this.metrics.ready.set(r.ok ? 1 : 0);
    return r;
  }

  /** SIGTERM (redis-container/handover.ts); the loops are not started again after it. */
  async handover(): Promise<void> {
    this.shuttingDown = true;
    await handOver(this.c, this.kube, this.metrics, {
      haltFence: () => this.fence.halt(),
      stopLoop: () => this.stop(),
    });
  }
}
