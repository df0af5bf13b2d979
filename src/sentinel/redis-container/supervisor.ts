// The Redis pod's supervisor: while redis-server runs, keep the pod honest. Every second it asks Redis for its
// ROLE; on a change, and every LAUNCHER_RECONCILE_MS, it observes the Sentinels and the pod's label, decides with
// reconcile() and acts (label, heal). On SIGTERM a master hands over before Redis stops.
import { statfs } from 'node:fs/promises';
import { TlsReloader } from '../../runtime/tls-reload.ts';
import { allAccept, passwordInFile, rotationStep, type Rotation } from '../../runtime/password-rotation.ts';
import type { Config } from '../../config/types.ts';
import { apiFailure, type Kube } from '../../kube/api.ts';
import { FenceLoop } from './fence-loop.ts';
import { PeriodicLoop } from '../../runtime/loop.ts';
import { emitEvent } from '../../kube/events.ts';
import { annotateData, currentPod, currentPods, sentinelTargets, setRoleLabel } from '../../kube/pods.ts';
import { dataDirHasData } from '../../redis/data-dir.ts';
import { observeSentinels } from '../observe.ts';
import { makeThisPodMaster } from '../make-master.ts';
import { askSentinelsToFailOver, replicasBehind } from '../failover.ts';
import { currentRecord, pausedSince } from '../../kube/record.ts';
import { log } from '../../runtime/log.ts';
import { keepHandover, type HandoverResult } from '../../runtime/last-handover.ts';
import { setRole, type RedisMetrics } from '../../runtime/metrics.ts';
import {
  addr,
  isLive,
  sameAddress,
  type Address,
  type PodView,
  type RoleAnswer,
  type SentinelView,
} from '../../model.ts';
import { reconcile, redisReadiness, sentinelMaster, type Action } from '../rules/reconcile.ts';
import {
  ask,
  askRole,
  askSentinel,
  infoFacts,
  localRedis,
  parseInfo,
  probeOptions,
  withRedis,
} from '../../redis/client.ts';
import { TICK_MS } from '../../runtime/loop.ts';

/** How often the mounted password file is read for a change. */
const PASSWORD_CHECK_MS = 2000;
/** How often the mounted TLS files are read for a change (the kubelet updates Secrets every minute or so). */
/**
 * How long a replica's link may stay down before it is told: twice a failover's timeout (a full sync after a
 * failover fits in it), at least 10 s.
 */
const linkDownTellMs = (c: Config) => Math.max(10_000, 2 * c.failoverTimeoutMs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  /** False while an empty replica has not finished its first full sync (replica-priority 0 till then). */
  private candidate: boolean;
  /** Since when this replica's link has been down, and whether that was told (once per outage). */
  private linkDownSince?: number;
  private linkDownTold = false;
  /** A password rotation under way, and when the password file was last read. */
  private rotation?: Rotation;
  private passwordCheckedAt = 0;
  /** The TLS files' fingerprint Redis has loaded, and when they were last looked at. */
  private readonly tls: TlsReloader;

  constructor(c: Config, kube: Kube, metrics: RedisMetrics, opts: { candidateOnceSynced?: boolean } = {}) {
    super();
    this.c = c;
    this.kube = kube;
    this.tls = new TlsReloader(c, kube);
    this.metrics = metrics;
    this.candidate = !opts.candidateOnceSynced;
    this.local = localRedis(c);
    this.self = { host: c.podIp, port: c.redisPort };
    this.fence = new FenceLoop(c, kube, metrics);
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
      const own = { host: this.c.podIp, port: this.c.sentinelPort };
      return { views: [await askSentinel(own, this.c.masterSet, probeOptions(this.c))], known: this.knownSentinels };
    }
  }

  /** Every second: ROLE; on a change, and every LAUNCHER_RECONCILE_MS, a full cycle. */
  protected async cycleOnce(): Promise<void> {
    await this.tls.check(this.local);
    await this.passwordCheck();
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
   * Password rotation (runtime/password-rotation.ts): this Redis accepts the new password too, switches the launcher's
   * connections and masterauth once every pod accepts it, and drops the old one after the grace period. Not with
   * the launcher's own ACL user: it may not run ACL SETUSER (a restart of each pod takes the new password then).
   */
  private async passwordCheck() {
    const file = this.c.passwordFile;
    if (!file || this.c.acl.launcher || Date.now() - this.passwordCheckedAt < PASSWORD_CHECK_MS) return;
    this.passwordCheckedAt = Date.now();
    const r = this.rotation;
    const inFile = await passwordInFile(file);
    let everyone = false;
    if (r?.phase === 'both') {
      const pods = (await currentPods(this.kube, this.c.podSelector).catch((): PodView[] => [])).filter(isLive);
      const o = probeOptions(this.c);
      everyone = await allAccept(
        pods.map((p) => ({ host: p.ip, port: this.c.redisPort })),
        (a) =>
          withRedis(a, { ...o, username: undefined, password: r.next }, (x) => x.ping()).then(
            (pong) => pong === 'PONG',
            () => false,
          ),
      );
    }
    const step = rotationStep(r, this.c.password, inFile, everyone, Date.now(), this.c.passwordGraceMs);
    const acl = (...args: string[]) => withRedis(this.local, probeOptions(this.c), (x) => x.call('ACL', ...args));
    try {
      if (step.kind === 'start' && inFile && this.c.password) {
        await acl('SETUSER', 'default', 'on', `>${inFile}`);
        this.rotation = { old: this.c.password, next: inFile, phase: 'both' };
      } else if (step.kind === 'switch' && r) {
        this.c.password = r.next;
        if (!this.c.acl.replication) {
          await withRedis(this.local, probeOptions(this.c), (x) => x.call('CONFIG', 'SET', 'masterauth', r.next));
        }
        r.phase = 'switched';
        r.switchedAt = Date.now();
      } else if (step.kind === 'finish' && r) {
        await acl('SETUSER', 'default', `<${r.old}`);
        this.rotation = undefined;
      } else {
        return;
      }
    } catch (e) {
      log.warn(`password rotation: ${step.reason}, but Redis refused: ${(e as Error).message}; trying again`);
      return;
    }
    log.info(`password rotation: ${step.reason}`);
    void emitEvent(this.kube, { name: this.c.podName }, 'Normal', 'PasswordRotation', step.reason);
  }

  /**
   * An empty replica of a master with data becomes a failover candidate once its first full sync is done; a link
   * down for twice SENTINEL_FAILOVER_TIMEOUT_MS (at least 10 s) is told once, with the data volume's free space
   * (a full disk fails every full sync).
   */
  private async replicaCheck(local: Extract<RoleAnswer, { role: 'slave' }>) {
    const now = Date.now();
    if (local.linkState === 'connected') {
      this.linkDownSince = undefined;
      this.linkDownTold = false;
      if (this.candidate) return;
      const p = String(this.c.replicaPriority);
      await withRedis(this.local, probeOptions(this.c), (r) => r.call('CONFIG', 'SET', 'replica-priority', p)).then(
        () => {
          this.candidate = true;
          log.info(`first full sync done: replica-priority ${p}, a failover candidate from now on`);
        },
        (e: Error) => log.warn(`could not set replica-priority ${p}: ${e.message}; trying again`),
      );
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
      this.metrics.promotions.inc();
      log.info(`Redis changed from ${from} to master`);
      void emitEvent(
        this.kube,
        { name: this.c.podName },
        'Normal',
        'BecameMaster',
        `Redis on ${this.c.podName} is now master (was ${from})`,
      );
    } else if (now.role === 'slave') {
      log.info(`Redis changed from ${from} to replica of ${addr(now.master)}`);
      void emitEvent(
        this.kube,
        { name: this.c.podName },
        'Normal',
        'BecameReplica',
        `Redis on ${this.c.podName} is now a replica of ${addr(now.master)} (was ${from})`,
      );
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
    if (!paused) await this.act(action);
    const done = paused ? `; ${paused}` : '';
    const sentence = `${action.kind === 'none' ? 'no action' : action.kind}: ${action.reason}${done}`;
    if ((action.kind !== 'none' && !paused) || sentence !== this.lastSentence) log.info(sentence);
    this.lastSentence = sentence;
    return action;
  }

  private async act(a: Action): Promise<void> {
    if (a.kind === 'none') return;
    this.metrics.actions.inc({ action: a.kind === 'label' ? `label-${a.value}` : a.kind });
    if (a.kind === 'record') {
      // Through the one home of "this pod is the master" (labels already true are not rewritten).
      const r = await makeThisPodMaster(this.c, this.kube);
      if (r.refused) return log.info(`not repairing the master of record after all: ${r.refused}`);
      log.info(`master of record repaired: it names ${this.c.podName} again`);
    } else if (a.kind === 'label' && a.value === 'slave') {
      await setRoleLabel(this.kube, this.c.podName, 'slave');
    } else if (a.kind === 'label') {
      const r = await makeThisPodMaster(this.c, this.kube);
      if (r.refused) return log.info(`not labelling this pod master after all: ${r.refused}`);
      await emitEvent(
        this.kube,
        { name: this.c.podName },
        'Normal',
        'LabelCorrected',
        `${a.reason}; labelled master${r.demoted.length ? `, removed master from ${r.demoted.join(', ')}` : ''}`,
      );
    } else if (a.kind === 'follow') {
      await withRedis(this.local, probeOptions(this.c), async (r) => {
        await r.call('REPLICAOF', a.master.host, String(a.master.port));
        await r.call('CONFIG', 'REWRITE').catch((e: Error) => log.warn(`CONFIG REWRITE failed: ${e.message}`));
      });
      log.warn(`${a.reason}; pointed at ${addr(a.master)}`);
      await emitEvent(
        this.kube,
        { name: this.c.podName },
        'Normal',
        'ReplicaRepointed',
        `${a.reason}; now a replica of ${addr(a.master)}`,
      );
    } else {
      await withRedis(this.local, probeOptions(this.c), async (r) => {
        await r.call('REPLICAOF', a.master.host, String(a.master.port));
        await r.call('CONFIG', 'REWRITE').catch((e: Error) => log.warn(`CONFIG REWRITE failed: ${e.message}`));
        // As Sentinel does when it reconfigures an instance: drop its clients (not this connection: SKIPME yes), so
        // that those behind the master Service reconnect to the real master instead of getting READONLY for ever.
        for (const type of ['normal', 'pubsub']) {
          await r
            .call('CLIENT', 'KILL', 'TYPE', type)
            .catch((e: Error) => log.warn(`CLIENT KILL failed: ${e.message}`));
        }
      });
      this.metrics.heals.inc();
      await setRoleLabel(this.kube, this.c.podName, 'slave');
      log.warn(`split brain healed: ${a.reason}; now a replica of ${addr(a.master)}`);
      await emitEvent(
        this.kube,
        { name: this.c.podName },
        'Warning',
        'SplitBrainHealed',
        `${a.reason}; made it a replica of ${addr(a.master)}`,
      );
    }
  }

  // ---- probes ----

  async liveness(): Promise<{ ok: boolean; reason: string }> {
    const stuck = this.stuckFor(3 * (TICK_MS + this.c.probeTimeoutMs * 4));
    if (stuck !== undefined) return { ok: false, reason: `supervisor loop has not run for ${stuck} ms` };
    return redisLiveness(this.c);
  }

  async readiness(): Promise<{ ok: boolean; reason: string }> {
    const { views, known } = await this.sentinelViews();
    const r = await redisReadinessCheck(this.c, views, known);
    this.metrics.ready.set(r.ok ? 1 : 0);
    return r;
  }

  /** Counted, and kept on the data volume for the next run (the process exits before any scrape). */
  private handoverResult(result: HandoverResult, why: string) {
    this.metrics.handovers.inc({ result });
    keepHandover(this.c.dataDir, { result, at: Date.now(), why });
  }

  /**
   * SIGTERM: a master with an in-sync replica asks Sentinel to fail over and waits until a majority of the Sentinels
   * names another master. The whole step, from the signal on, fits in HANDOVER_TIMEOUT_MS (supervise() cuts it off
   * there too), and nothing on this path waits for an Event.
   */
  async handover(): Promise<void> {
    const t0 = Date.now();
    const deadline = t0 + this.c.handoverTimeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const opts = () => ({ ...probeOptions(this.c), timeoutMs: Math.min(this.c.probeTimeoutMs, left()) });
    this.shuttingDown = true;
    // No fence cycle pauses after this; the fence's pause, if any, lapses by itself (redis/write-pause.ts).
    await this.fence.halt();
    const local = await askRole(this.local, opts());
    if (!local.answered || local.role !== 'master') return;
    this.stop();
    const paused = await pausedSince(this.kube, this.c.masterRecord);
    if (paused) {
      log.warn(`shutting down a master while the set is paused (since ${paused}): no handover`);
      this.handoverResult('skipped', `the set is paused (since ${paused})`);
      return;
    }
    if (local.replicas.length === 0) {
      log.warn('shutting down a master without an in-sync replica: no handover possible');
      this.handoverResult('skipped', 'no replica');
      return;
    }
    const own = { host: this.c.podIp, port: this.c.sentinelPort };
    const targets = await sentinelTargets(this.c, this.kube).catch(() => ({ addresses: [], known: 1 }));
    const others = targets.addresses.filter((s) => !sameAddress(s, own));
    const failed = (why: string, result: 'failed' | 'timeout') => {
      log.warn(`handover: ${why}; stopping anyway`);
      this.handoverResult(result, why);
      void emitEvent(this.kube, { name: this.c.podName }, 'Warning', 'HandoverFailed', why);
    };
    // Writes are paused (they block, then fail on what is by then a replica) so that no write is acknowledged by
    // this master and a not-yet-reconfigured replica after Sentinel has promoted another one.
    await withRedis(this.local, opts(), (r) => r.call('CLIENT', 'PAUSE', String(left() + 5000), 'WRITE')).catch(
      (e: Error) => log.warn(`handover: CLIENT PAUSE failed: ${e.message}`),
    );
    // Sentinel picks the replica from INFO up to 10 s old and promotes it at once: let every replica receive what
    // this master acknowledged before the pause first (bounded by a third of what is left). A replica the master
    // sees behind is asked for the offset it has processed itself: the master's view moves only with the
    // replica's REPLCONF ACK, once a second, which would hold the paused writes up to a second longer.
    const caughtUpBy = Date.now() + left() / 3;
    for (;;) {
      const now = await askRole(this.local, opts());
      const behind =
        now.answered && now.role === 'master' ? await replicasBehind(now.offset, now.replicas, opts()) : [];
      if (!behind.length) break;
      if (Date.now() >= caughtUpBy) {
        log.warn(`handover: ${behind.map(addr).join(', ')} still behind this master; asking for the failover anyway`);
        break;
      }
      await sleep(10);
    }
    const { asked, refusals } = await askSentinelsToFailOver([...others, own], this.c.masterSet, opts());
    if (!asked) {
      // The paused writes do not go on here: an UNPAUSE would also lift a pause another path holds (a switchover's,
      // or the fence's). They end with Redis, unacknowledged; the data on disk is what the replicas have.
      return failed(`no Sentinel accepted SENTINEL FAILOVER (${refusals.join('; ') || 'none answers'})`, 'failed');
    }
    log.info(`handover: asked Sentinel ${addr(asked)} to fail over; waiting up to ${left()} ms`);
    // From here on writes stay paused whatever happens: a failover is under way, and a write taken now could be
    // acknowledged here and lost when the new master takes over.
    const watching = others.length ? others : [own];
    while (Date.now() < deadline) {
      const views = await Promise.all(watching.map((s) => askSentinel(s, this.c.masterSet, opts())));
      if (views.every((v) => !v.reachable)) {
        return failed('no other Sentinel answers any more (the whole set is stopping?)', 'failed');
      }
      const m = sentinelMaster(views, this.c.quorum, targets.known).master;
      if (m && !sameAddress(m, this.self)) {
        const took = Date.now() - t0;
        log.info(`handover: the sentinels now name ${addr(m)} after ${took} ms; stopping Redis`);
        this.handoverResult('done', `handed over to ${addr(m)} in ${took} ms`);
        void emitEvent(
          this.kube,
          { name: this.c.podName },
          'Normal',
          'HandedOver',
          `shutting down: mastership handed over to ${addr(m)} in ${took} ms`,
        );
        return;
      }
      await sleep(Math.min(100, left()));
    }
    failed(`no new master within ${this.c.handoverTimeoutMs} ms`, 'timeout');
  }
}

/** Liveness of Redis: it answers PING within the deadline; LOADING and MASTERDOWN count as alive. */
export async function redisLiveness(c: Config): Promise<{ ok: boolean; reason: string }> {
  try {
    const pong = await ask(localRedis(c), probeOptions(c), (r) => r.ping());
    return { ok: pong === 'PONG', reason: `PING answered ${pong}` };
  } catch (e) {
    const msg = String((e as Error).message);
    if (/^(LOADING|MASTERDOWN)/.test(msg)) return { ok: true, reason: `alive (${msg.split(' ')[0]})` };
    return { ok: false, reason: `Redis does not answer PING: ${msg}` };
  }
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** The data volume's free space in words; a full sync writes the whole dataset there first. */
export async function volumeSpace(dir: string): Promise<string> {
  try {
    const s = await statfs(dir);
    return `the data volume ${dir} has ${mib(s.bavail * s.bsize)} free of ${mib(s.blocks * s.bsize)}`;
  } catch (e) {
    return `the data volume ${dir} cannot be measured (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

export async function redisReadinessCheck(
  c: Config,
  sentinels: SentinelView[],
  knownSentinels: number,
): Promise<{ ok: boolean; reason: string }> {
  let facts;
  try {
    facts = infoFacts(parseInfo(String(await ask(localRedis(c), probeOptions(c), (r) => r.call('INFO')))));
  } catch {
    /* not answering */
  }
  const self = { host: c.podIp, port: c.redisPort };
  const r = redisReadiness(self, facts, sentinels, c.quorum, knownSentinels, c.sentinelSidecar);
  const notSyncing = facts?.role === 'slave' && !r.ready && !facts.loading;
  return { ok: r.ready, reason: notSyncing ? `${r.reason}; ${await volumeSpace(c.dataDir)}` : r.reason };
}
