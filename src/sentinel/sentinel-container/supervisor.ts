// The Sentinel pod's supervisor: probes, relabelling at event time, and hygiene.
//   - Relabel: subscribed to its Sentinel's +switch-master, it relabels the moment the event arrives, from this
//     warm process (the client-reconfig-script, launcher-promote, stays as the contract and the backstop).
//   - Hygiene: when this Sentinel remembers replicas or Sentinels at addresses no pod has any more (pod IPs
//     changed), it runs SENTINEL RESET, but only when the entries really disagree with the pods the API reports,
//     never during a failover, and one Sentinel at a time (a Lease lock). First, when the master it names belongs
//     to no pod and can never be failed over from, it re-points the set's Sentinels (repoint.ts).
import { sentinelGroupReadiness, sentinelLiveness } from './probes.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../../config/types.ts';
import { apiFailure, type Kube } from '../../kube/api.ts';
import { tryLock, unlock } from '../../kube/lock.ts';
import { emitEvent } from '../../kube/events.ts';
import { currentPods, listPods } from '../../kube/pods.ts';
import { pausedSince } from '../../kube/record.ts';
import { statefulSetOrdinals } from '../../kube/statefulsets.ts';
import { log } from '../../runtime/log.ts';
import { PeriodicLoop } from '../../runtime/loop.ts';
import { setRole, type SentinelMetrics } from '../../runtime/metrics.ts';
import { addr, canonicalHost, isLive, type Address, type PodView } from '../../model.ts';
import { relabelTo } from '../promote/relabel.ts';
import { SetRepointer } from './repoint.ts';
import { holderGone } from '../rules/reset-lock.ts';
import { forSentinel, localSentinel, pairs, probeOptions, tlsOptions, withRedis } from '../../redis/client.ts';

/** How long a relabel at the event waits for a majority of the Sentinels to name the new master. */
const RELABEL_CONFIRM_MS = 15_000;

export type SentinelState = { flags: string[]; replicas: string[]; sentinels: string[] };

/** Addresses this Sentinel knows that belong to no pod of the set: what a reset would drop. */
export function staleEntries(s: SentinelState, podIps: Set<string>): string[] {
  return [...s.replicas, ...s.sentinels].filter((ip) => !podIps.has(ip));
}

/**
 * The pods of these pods' StatefulSets that do not exist (an ordinal the StatefulSet keeps with no pod: deleted, to be
 * recreated), by name; a StatefulSet that cannot be read counts as moving too.
 */
async function absentOrdinals(kube: Kube, pods: PodView[]): Promise<string[]> {
  const owners = new Set(pods.map((p) => p.owner).filter((o): o is string => Boolean(o)));
  const absent: string[] = [];
  for (const owner of owners) {
    let ordinals: { start: number; replicas: number };
    try {
      ordinals = await statefulSetOrdinals(kube, owner);
    } catch (e) {
      absent.push(`StatefulSet ${owner} (cannot be read: ${apiFailure(e).message})`);
      continue;
    }
    const present = new Set(pods.filter((p) => p.owner === owner).map((p) => p.ordinal));
    const { start, replicas } = ordinals;
    for (let i = start; i < start + replicas; i++) if (!present.has(i)) absent.push(`${owner}-${i} (no pod yet)`);
  }
  return absent;
}

export class SentinelSupervisor extends PeriodicLoop {
  private readonly c: Config;
  private readonly kube: Kube;
  private readonly metrics: SentinelMetrics;
  private readonly local: Address;
  private events?: Redis;
  /** The master sets this Sentinel monitors, each with its settings (src/sentinel/rules/sets.ts). */
  private readonly sets: () => Config[];
  /** Re-points the Sentinels of a set whose master belongs to no pod (repoint.ts). */
  private readonly repointer: SetRepointer;
  /** Each set's relabels run one after the other (a newer switch waits for the one in flight); sets in parallel. */
  private readonly relabelling = new Map<string, Promise<unknown>>();
  /** The identity this Sentinel last took each reset Lease under, by Lease name (to give it back). */
  private readonly lockHolder = new Map<string, string>();

  constructor(c: Config, kube: Kube, metrics: SentinelMetrics, sets: () => Config[] = () => [c]) {
    super();
    this.c = c;
    this.kube = kube;
    this.metrics = metrics;
    this.local = localSentinel(c);
    this.sets = sets;
    this.repointer = new SetRepointer({
      c,
      kube,
      local: this.local,
      state: (set) => this.state(set),
      lock: (sc, acquire) => this.lock(sc, acquire),
    });
  }

  start() {
    setRole(this.metrics, 'sentinel');
    this.listen();
    super.start(this.c.hygieneMs);
  }

  stop() {
    super.stop();
    this.events?.disconnect();
    this.events = undefined;
  }

  /** +switch-master <set> <old-ip> <old-port> <new-ip> <new-port>: relabel now, with promote's rule. */
  private listen() {
    const r = new Redis({
      host: this.local.host,
      port: this.local.port,
      password: this.c.sentinelPassword,
      ...(this.c.tls ? { tls: tlsOptions(this.c.tls.pem) } : {}),
      ...(this.c.listenAddress ? { localAddress: this.c.listenAddress } : {}),
      retryStrategy: (n: number) => Math.min(n * 200, 2000),
      maxRetriesPerRequest: null,
      disableClientInfo: true,
      enableReadyCheck: false,
      protocol: 2,
    } as RedisOptions);
    r.on('error', () => {});
    r.on('message', (_channel: string, message: string) => {
      const [set, fromIp, fromPort, toIp, toPort] = message.split(' ');
      const sc = this.sets().find((x) => x.masterSet === set);
      if (!sc) return;
      const from = { host: fromIp, port: Number(fromPort) };
      const to = { host: toIp, port: Number(toPort) };
      log.info(`+switch-master ${set} ${addr(from)} -> ${addr(to)}: relabelling`);
      const t0 = Date.now();
      const chain = (this.relabelling.get(set) ?? Promise.resolve())
        .then(() => relabelTo(sc, this.kube, from, to, RELABEL_CONFIRM_MS, t0))
        .catch((e: unknown) => log.warn(`relabel of ${set} at +switch-master failed: ${(e as Error).message}`));
      this.relabelling.set(set, chain);
    });
    r.subscribe('+switch-master').catch((e: Error) => log.warn(`cannot subscribe to +switch-master: ${e.message}`));
    this.events = r;
  }

  async state(masterSet = this.c.masterSet): Promise<SentinelState> {
    return withRedis(this.local, forSentinel(probeOptions(this.c)), async (r) => {
      const m = pairs(await r.call('SENTINEL', 'MASTER', masterSet));
      const ips = (list: unknown) => (Array.isArray(list) ? list.map((x) => canonicalHost(pairs(x).ip)) : []);
      return {
        flags: (m.flags ?? '').split(','),
        replicas: ips(await r.call('SENTINEL', 'REPLICAS', masterSet)),
        sentinels: ips(await r.call('SENTINEL', 'SENTINELS', masterSet)),
      };
    });
  }

  /** Hygiene, set by set: drop entries for addresses no pod has, when it is safe (see the file comment). */
  protected async cycleOnce(): Promise<void> {
    for (const sc of this.sets()) {
      await this.hygiene(sc).catch((e: unknown) => log.warn(`hygiene of ${sc.masterSet}: ${(e as Error).message}`));
    }
  }

  private async hygiene(sc: Config): Promise<void> {
    if (await pausedSince(this.kube, sc.masterRecord)) return; // maintenance mode: no reset
    if (await this.repointer.repoint(sc)) return;
    const st = await this.state(sc.masterSet);
    if (st.flags.some((f) => ['failover_in_progress', 'o_down', 's_down', 'promoted'].includes(f))) return;
    const pods = [
      ...(await currentPods(this.kube, sc.podSelector)),
      ...(sc.sentinelSidecar ? [] : await currentPods(this.kube, sc.sentinelSelector)),
    ];
    if (!pods.length) return;
    // A pod's address and, in hostnames mode, the IP behind it: an entry by either is not stale.
    const ips = new Set(pods.flatMap((p) => [p.ip, p.podIp]).filter((x): x is string => Boolean(x)));
    const stale = staleEntries(st, ips);
    if (!stale.length) return;
    // A reset forgets the known replicas until the master's next INFO: never while anything is moving (a rollout,
    // a pod starting or stopping), because losing the master in that window leaves no replica to promote.
    // A pod deleted and not yet recreated (an ordinal below its StatefulSet's spec.replicas with no pod) is moving
    // too: the controller is about to recreate it.
    const unsettled = [
      ...pods.filter((p) => p.terminating || p.phase !== 'Running' || !p.ready || !p.ip).map((p) => p.name),
      ...(await absentOrdinals(this.kube, pods)),
    ];
    if (unsettled.length) {
      log.info(`stale sentinel entries (${stale.join(', ')}), but ${unsettled.join(', ')} not settled; later`);
      return;
    }
    if (!(await this.lock(sc, true))) {
      log.info(`stale sentinel entries (${stale.join(', ')}), but another Sentinel is resetting; later`);
      return;
    }
    try {
      log.info(`SENTINEL RESET ${sc.masterSet}: it remembers ${stale.join(', ')}, which no pod has`);
      await withRedis(this.local, forSentinel(probeOptions(this.c)), (r) => r.call('SENTINEL', 'RESET', sc.masterSet));
      this.metrics.sentinelResets.inc();
      void emitEvent(
        this.kube,
        { name: this.c.podName },
        'Normal',
        'SentinelReset',
        `${sc.masterSet}: dropped stale entries ${stale.join(', ')}`,
      );
      const redisPods = await currentPods(this.kube, sc.podSelector);
      const want = redisPods.filter(isLive).length - 1;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && (await this.state(sc.masterSet)).replicas.length < want) await sleep(500);
    } finally {
      await this.lock(sc, false);
    }
  }

  /**
   * A Lease `<record>-sentinel-reset` held for at most 60 s: one Sentinel resets a set at a time. Its holder is this
   * pod's name and uid, so that a holder whose pod is gone, or was recreated under its name (killed mid-reset), is
   * passed over at once instead of after the Lease's duration.
   */
  private async lock(sc: Config, acquire: boolean): Promise<boolean> {
    const name = `${sc.masterRecord}-sentinel-reset`;
    if (!acquire) {
      await unlock(this.kube, name, this.lockHolder.get(name) ?? this.c.podName);
      return true;
    }
    // Read from the API, not a watch's cache: a cache that lags (a pod just recreated, its old uid) must not pass a
    // live holder over.
    const pods = [
      ...(await listPods(this.kube, sc.podSelector)),
      ...(sc.sentinelSidecar ? [] : await listPods(this.kube, sc.sentinelSelector)),
    ];
    const uid = pods.find((p) => p.name === this.c.podName)?.uid;
    const holder = uid ? `${this.c.podName}_${uid}` : this.c.podName;
    this.lockHolder.set(name, holder);
    return (await tryLock(this.kube, name, holder, 60, (other) => holderGone(other, pods))) !== undefined;
  }

  async liveness(): Promise<{ ok: boolean; reason: string }> {
    return sentinelLiveness(this.c);
  }

  /** Readiness (sentinelGroupReadiness), which the kubelet asks every few seconds; also what the quorum gauge shows. */
  async readiness(): Promise<{ ok: boolean; reason: string }> {
    const r = await sentinelGroupReadiness(
      this.c,
      this.sets().map((sc) => sc.masterSet),
    );
    this.metrics.sentinelQuorumOk.set(r.ok ? 1 : 0);
    return r;
  }
}
