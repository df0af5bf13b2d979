// Redis Cluster mode's supervisor: every second it observes this pod's Redis (CLUSTER INFO, CLUSTER NODES), the
// pods and, when it matters, the peers; decides with clusterAction() (src/cluster/rules/decide.ts); acts (forms the
// cluster once, meets members whose address changed); and keeps the pod's label (redis-role=master|slave) and
// its annotations (node ID, slots) true. Each cycle that does something ends in one log sentence.
import type * as k8s from '@kubernetes/client-node';
import type { Config } from '../config/types.ts';
import { apiFailure, mergePatch, withTimeout, type Kube } from '../kube/api.ts';
import { emitEvent } from '../kube/events.ts';
import { currentPod, currentPods, setRoleLabel } from '../kube/pods.ts';
import { createRecord } from '../kube/record.ts';
import { keepHandover, type HandoverResult } from '../runtime/last-handover.ts';
import { log } from '../runtime/log.ts';
import { TlsReloader } from '../runtime/tls-reload.ts';
import { PeriodicLoop } from '../runtime/loop.ts';
import { setRole, type RedisMetrics } from '../runtime/metrics.ts';
import { isLive, type Address, type PodView } from '../model.ts';
import { localRedis, parseInfo, probeOptions, withRedis } from '../redis/client.ts';
import {
  clusterAction,
  clusterHandover,
  inCluster,
  parseClusterNodes,
  replicaOffsets,
  settled,
  slotCount,
  slotText,
  type BootstrapPlan,
  type ClusterNode,
  type ClusterView,
  type NodeState,
} from './rules/decide.ts';

export const NODE_ID_ANNOTATION = 'redis-ha-launcher/cluster-node-id';
export const SLOTS_ANNOTATION = 'redis-ha-launcher/cluster-slots';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Redis's manual failover timeout (CLUSTER_MF_TIMEOUT, fixed in Redis 7.0). */
const MANUAL_FAILOVER_MS = 5000;

/** The Lease that lets exactly one pod form the cluster: `<set>-cluster`. */
export const bootstrapLease = (c: Config) => `${c.masterRecord.replace(/-master$/, '')}-cluster`;
/** On that Lease once the cluster is formed: when. A cluster is never formed twice. */
export const FORMED_ANNOTATION = 'redis-ha-launcher/cluster-formed';

type ClusterLease = { holder: string; formedAt?: string };
const clusterLeaseOf = (l: k8s.V1Lease): ClusterLease => {
  const formedAt = l.metadata?.annotations?.[FORMED_ANNOTATION];
  return { holder: l.spec?.holderIdentity ?? '', ...(formedAt ? { formedAt } : {}) };
};

/** The bootstrap Lease: its holder, and when the cluster was formed; null when there is none. */
export async function readClusterLease(kube: Kube, name: string): Promise<ClusterLease | null> {
  try {
    return clusterLeaseOf(
      await kube.coordination.readNamespacedLease({ name, namespace: kube.namespace }, withTimeout()),
    );
  } catch (e) {
    if (apiFailure(e).code === 404) return null;
    throw e;
  }
}

/** The bootstrap Lease as its watch holds it (run-cluster watches it), else read. */
async function currentClusterLease(kube: Kube, name: string): Promise<ClusterLease | null> {
  const cached = kube.watched.leases.get(name)?.items();
  if (!cached) return readClusterLease(kube, name);
  const l = cached.find((x) => x.metadata?.name === name);
  return l ? clusterLeaseOf(l) : null;
}

/** What one Redis says of the cluster; undefined when it does not answer. */
export async function nodeState(c: Config, a: Address): Promise<NodeState | undefined> {
  try {
    return await withRedis(a, probeOptions(c), async (r) => ({
      info: parseInfo(String(await r.call('CLUSTER', 'INFO'))),
      nodes: parseClusterNodes(String(await r.call('CLUSTER', 'NODES'))),
      keys: Number(await r.call('DBSIZE')),
    }));
  } catch {
    return undefined;
  }
}

/** Where the launcher reaches a pod's Redis, and what CLUSTER MEET takes: its IP (also in hostnames mode). */
export const podAddress = (c: Config, p: PodView): Address => ({ host: p.podIp ?? p.ip ?? '', port: c.redisPort });

/** The cluster as this pod sees it: itself, the pods, and the peers that matter for the decision. */
export async function observeCluster(c: Config, cl: NonNullable<Config['cluster']>, kube: Kube): Promise<ClusterView> {
  const [local, pods, lease] = await Promise.all([
    nodeState(c, localRedis(c)),
    currentPods(kube, c.podSelector),
    currentClusterLease(kube, bootstrapLease(c)).catch(() => null),
  ]);
  const known = new Set((local?.nodes ?? []).map((n) => `${n.host}:${n.port}`));
  // A member asks only the peers it does not know by address; a fresh node, and the holder of an unfinished
  // bootstrap (it needs every pod's state), ask every live peer.
  const resuming = lease?.holder === c.podName && !lease.formedAt;
  const ask = pods
    .filter(isLive)
    .filter((p) => p.name !== c.podName)
    .filter((p) => resuming || !local || !inCluster(local) || !known.has(`${podAddress(c, p).host}:${c.redisPort}`));
  const answers = await Promise.all(ask.map((p) => nodeState(c, podAddress(c, p))));
  const self = pods.find((p) => p.name === c.podName);
  return {
    self: { name: c.podName, ordinal: self?.ordinal ?? null },
    redisPort: c.redisPort,
    desired: cl.masters * (1 + cl.replicasPerMaster),
    masters: cl.masters,
    replicasPerMaster: cl.replicasPerMaster,
    // Decisions compare the addresses Redis Cluster knows: IPs.
    pods: pods.map((p) => ({ ...p, ip: p.podIp ?? p.ip })),
    local,
    peers: Object.fromEntries(ask.map((p, i) => [p.name, answers[i]])),
    ...(lease?.holder ? { bootstrapHolder: lease.holder } : {}),
    ...(lease?.formedAt ? { formedAt: lease.formedAt } : {}),
  };
}

export class ClusterSupervisor extends PeriodicLoop {
  private readonly c: Config;
  private readonly cl: NonNullable<Config['cluster']>;
  private readonly kube: Kube;
  private readonly metrics: RedisMetrics;
  private lastSentence = '';
  private last?: NodeState;
  /** A bootstrap running beside the loop (it may take longer than liveness lets a cycle take). */
  private bootstrapping?: Promise<void>;
  /** A rotated TLS Secret: Redis loads the new files (the bus and replication use them for new links). */
  private readonly tls: TlsReloader;
  /** This pod wrote the record of the formation (its watch may not show it yet). */
  private formedRecorded = false;
  /** Set when SIGTERM's handover begins: a cycle still running labels nothing any more. */
  private shuttingDown = false;

  constructor(c: Config, cl: NonNullable<Config['cluster']>, kube: Kube, metrics: RedisMetrics) {
    super();
    this.c = c;
    this.cl = cl;
    this.kube = kube;
    this.metrics = metrics;
    this.tls = new TlsReloader(c, kube);
  }

  private say(sentence: string) {
    if (sentence === this.lastSentence) return;
    this.lastSentence = sentence;
    log.info(sentence);
  }

  protected async cycleOnce(): Promise<void> {
    await this.tls.check(localRedis(this.c));
    const v = await observeCluster(this.c, this.cl, this.kube);
    this.last = v.local;
    const a = clusterAction(v);
    if (a.kind === 'formed') {
      if (!this.formedRecorded && !this.bootstrapping) {
        await this.recordFormed().then(() => this.say(`recorded: ${a.reason}`));
      }
    } else if (a.kind === 'bootstrap') {
      // Not once this pod recorded the formation (its watch may not have brought the record back yet).
      if (!this.formedRecorded) {
        this.bootstrapping ??= this.bootstrap(a.plan, v)
          .catch((e: unknown) => log.warn(`${(e as Error).message}; the Lease holder tries again`))
          .finally(() => (this.bootstrapping = undefined));
      }
    } else if (a.kind === 'meet') {
      for (const x of a.addresses) {
        await withRedis(localRedis(this.c), probeOptions(this.c), (r) =>
          r.call('CLUSTER', 'MEET', x.host, String(x.port)),
        ).catch((e: Error) => log.warn(`CLUSTER MEET ${x.host}:${x.port}: ${e.message}`));
      }
      this.say(`met again: ${a.reason}`);
    } else this.say(`${a.kind === 'wait' ? 'waiting' : 'no action'}: ${a.reason}`);
    if (v.local) await this.keepLabels(v.local);
    if (v.local && inCluster(v.local)) await this.relabelFailed(v);
  }

  /**
   * A pod whose node the cluster has failed (flag fail) and that serves no slot any more (its replica took over)
   * is no master, but it cannot say so itself (it is down): a member relabels it slave, as promote does for a
   * Sentinel set. A failed master that still owns its slots (no replica took over) keeps its label.
   */
  private async relabelFailed(v: ClusterView) {
    for (const n of v.local?.nodes ?? []) {
      if (!n.flags.includes('fail') || n.flags.includes('myself') || slotCount(n) > 0) continue;
      // By the node ID its pod published, not by address: another pod may have the failed node's old IP now.
      const pod = v.pods.find((p) => p.clusterNodeId === n.id);
      if (!pod || pod.roleLabel !== 'master') continue;
      try {
        const changed = await setRoleLabel(this.kube, pod.name, 'slave', (cur) => cur.roleLabel === 'master');
        if (changed) this.say(`labelled ${pod.name} slave: the cluster failed it and its slots moved to its replica`);
      } catch (e) {
        log.warn(`could not relabel ${pod.name}: ${apiFailure(e).message}`);
      }
    }
  }

  /** The label follows ROLE (myself's flags); the annotations name the node ID and its slots. */
  private async keepLabels(s: NodeState) {
    if (this.shuttingDown) return;
    const me = s.nodes.find((n) => n.flags.includes('myself'));
    if (!me || !inCluster(s)) return;
    const role = me.flags.includes('master') ? 'master' : 'slave';
    setRole(this.metrics, role);
    try {
      // Compared with the pod as its watch holds it: a settled pod costs no request (the writes read first).
      const pod = await currentPod(this.kube, this.c.podName);
      if (pod.roleLabel !== role && (await setRoleLabel(this.kube, this.c.podName, role))) {
        this.say(`labelled ${this.c.podName} ${role}`);
      }
      const slots = slotText(me) || 'none';
      if (pod.clusterNodeId !== me.id || pod.clusterSlots !== slots) {
        await this.kube.core.patchNamespacedPod(
          {
            name: this.c.podName,
            namespace: this.kube.namespace,
            body: { metadata: { annotations: { [NODE_ID_ANNOTATION]: me.id, [SLOTS_ANNOTATION]: slots } } },
          },
          mergePatch(),
        );
      }
    } catch (e) {
      log.warn(`could not keep the label and annotations true: ${apiFailure(e).message}`);
    }
  }

  /**
   * Forms the cluster (only the Lease's holder): config epochs, MEET, ADDSLOTSRANGE on the masters, REPLICATE on
   * the replicas, then waits for cluster_state:ok. Each step may be repeated (a holder that died half-way runs it
   * again when it comes back).
   */
  private async bootstrap(plan: BootstrapPlan, v: ClusterView) {
    const lease = bootstrapLease(this.c);
    const mine =
      (await createRecord(this.kube, lease, this.c.podName, this.c.podIp)) ||
      (await readClusterLease(this.kube, lease))?.holder === this.c.podName;
    if (!mine) {
      this.say(`waiting: another pod holds the Lease ${lease} and forms the cluster`);
      return;
    }
    const o = probeOptions(this.c);
    const at = (name: string): Address => ({
      host: v.pods.find((x) => x.name === name)?.ip ?? '',
      port: this.c.redisPort,
    });
    const order = [...plan.masters.map((m) => m.pod), ...plan.replicas.map((r) => r.pod)];
    log.info(
      `forming the cluster: masters ${plan.masters.map((m) => `${m.pod} (slots ${m.from}-${m.to})`).join(', ')}; ` +
        `replicas ${plan.replicas.map((r) => `${r.pod} of ${r.of}`).join(', ')}`,
    );
    // Distinct config epochs first (what redis-cli --cluster create does), so that no collision has to settle.
    await Promise.all(
      order.map((pod, i) =>
        withRedis(at(pod), o, (r) => r.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1))).catch(() => undefined),
      ),
    );
    const self = at(this.c.podName);
    for (const pod of order.filter((p) => p !== this.c.podName)) {
      const a = at(pod);
      await withRedis(self, o, (r) => r.call('CLUSTER', 'MEET', a.host, String(a.port)));
    }
    const until = async (what: string, ok: () => Promise<boolean>, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await ok().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`forming the cluster: ${what} did not happen within ${ms} ms`);
        await sleep(200);
      }
    };
    const everyoneKnowsAll = async () => {
      const states = await Promise.all(order.map((p) => nodeState(this.c, at(p))));
      return states.every((s) => s && s.nodes.filter((n) => !n.flags.includes('handshake')).length >= order.length);
    };
    await until('every node knowing every other', everyoneKnowsAll, 30_000);
    // Run again after a bootstrap that stopped half-way, each step is skipped where it is done, as each node
    // says of itself: a range some node serves already (its master, or the replica that took over from it) is
    // left alone, never taken over.
    const myself = async (pod: string) =>
      (await nodeState(this.c, at(pod)))?.nodes.find((n) => n.flags.includes('myself'));
    const selves = async () => Promise.all(order.map((p) => myself(p)));
    const ownerOf = (nodes: (ClusterNode | undefined)[], slot: number) =>
      nodes.find((n) => n?.slots.some(([a, b]) => a <= slot && slot <= b));
    const served = await selves();
    for (const m of plan.masters) {
      const taken = served.some((n) => n?.slots.some(([a, b]) => a <= m.to && m.from <= b));
      if (taken) continue;
      await withRedis(at(m.pod), o, (r) => r.call('CLUSTER', 'ADDSLOTSRANGE', String(m.from), String(m.to)));
    }
    const now = await selves();
    // Each planned replica follows whoever serves its master's range now; so does a planned master whose range
    // another node took over while it was away (its replica, promoted): it is left empty otherwise.
    const followers = [
      ...plan.replicas.map((r) => ({ pod: r.pod, from: plan.masters.find((m) => m.pod === r.of)?.from ?? 0 })),
      ...plan.masters.map((m) => ({ pod: m.pod, from: m.from })),
    ];
    for (const f of followers) {
      const owner = ownerOf(now, f.from);
      if (!owner) throw new Error(`forming the cluster: no node serves slot ${f.from}`);
      await until(
        `${f.pod} replicating ${owner.host}:${owner.port}`,
        async () => {
          // Asked again at each try: a replica already (of its master, or of whoever took over), or a master
          // serving slots, is done, and a live replica is never re-pointed (REPLICATE would move it).
          const me = await myself(f.pod);
          if (!me) return false;
          if (me.flags.includes('slave') || slotCount(me) > 0) return true;
          await withRedis(at(f.pod), o, (x) => x.call('CLUSTER', 'REPLICATE', owner.id));
          return true;
        },
        30_000,
      );
    }
    // Formed once every node says so, not only this one.
    await until(
      'cluster_state:ok on every node',
      async () => (await Promise.all(order.map((p) => nodeState(this.c, at(p))))).every((x) => x && settled(x)),
      60_000,
    );
    await this.recordFormed();
    const what =
      `formed the cluster: ${plan.masters.length} masters, ${plan.replicas.length} replicas, ` + `16384 slots assigned`;
    log.info(what);
    void emitEvent(this.kube, { name: this.c.podName }, 'Normal', 'ClusterFormed', what);
  }

  /** On the Lease: from now on no pod forms a cluster again, and the holder resumes nothing. */
  private async recordFormed() {
    await this.kube.coordination.patchNamespacedLease(
      {
        name: bootstrapLease(this.c),
        namespace: this.kube.namespace,
        body: { metadata: { annotations: { [FORMED_ANNOTATION]: new Date().toISOString() } } },
      },
      mergePatch(),
    );
    this.formedRecorded = true;
  }

  /**
   * SIGTERM: a master serving slots asks its most up-to-date replica to take over (CLUSTER FAILOVER, which pauses
   * this master's writers until the replica has everything) and waits until the replica is master, then labels
   * this pod slave. The whole step fits in HANDOVER_TIMEOUT_MS (supervise() cuts it off there too).
   */
  async handover(): Promise<void> {
    const t0 = Date.now();
    const deadline = t0 + this.c.handoverTimeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const o = () => ({ ...probeOptions(this.c), timeoutMs: Math.min(this.c.probeTimeoutMs, left()) });
    this.stop();
    this.shuttingDown = true;
    const local = localRedis(this.c);
    const s = await nodeState(this.c, local);
    const info = await withRedis(local, o(), (r) => r.call('INFO', 'replication'))
      .then((i) => parseInfo(String(i)))
      .catch(() => ({}));
    // A replica whose pod is going too (a drain, a deletion of several pods) is no heir.
    const going = await currentPods(this.kube, this.c.podSelector)
      .then((ps) => ps.filter((p) => p.terminating && p.name !== this.c.podName).map((p) => podAddress(this.c, p)))
      .catch(() => []);
    const h = clusterHandover(
      s,
      replicaOffsets(info),
      going.map((a) => `${a.host}:${a.port}`),
    );
    if (h.kind === 'skip') {
      if (s?.nodes.find((n) => n.flags.includes('myself'))?.flags.includes('master')) {
        log.warn(`shutting down a master: no handover (${h.reason})`);
        this.handoverResult('skipped', h.reason);
      }
      return;
    }
    const to: Address = { host: h.to.host, port: h.to.port };
    const failed = (why: string, result: 'failed' | 'timeout') => {
      log.warn(`handover: ${why}; stopping anyway`);
      this.handoverResult(result, why);
      void emitEvent(this.kube, { name: this.c.podName }, 'Warning', 'HandoverFailed', why);
    };
    try {
      await withRedis(to, o(), (r) => r.call('CLUSTER', 'FAILOVER'));
    } catch (e) {
      return failed(`CLUSTER FAILOVER on ${h.to.host}:${h.to.port} failed: ${(e as Error).message}`, 'failed');
    }
    // Redis gives a manual failover 5 s (CLUSTER_MF_TIMEOUT), then the replica gives up and this master takes
    // writes again: waiting longer would only delay the stop.
    const until = Math.min(deadline, Date.now() + MANUAL_FAILOVER_MS + 500);
    log.info(
      `handover: asked ${h.to.host}:${h.to.port} to take over (${h.reason}); waiting up to ${until - Date.now()} ms`,
    );
    while (Date.now() < until) {
      const now = await nodeState(this.c, to);
      if (now?.nodes.find((n) => n.flags.includes('myself'))?.flags.includes('master')) {
        const took = Date.now() - t0;
        const what = `shutting down: slots handed over to ${h.to.host}:${h.to.port} (${h.to.id}) in ${took} ms`;
        log.info(`handover: ${h.to.host}:${h.to.port} is master after ${took} ms; stopping Redis`);
        this.handoverResult('done', what);
        void emitEvent(this.kube, { name: this.c.podName }, 'Normal', 'HandedOver', what);
        // No longer the master: the label says so before the pod goes (the new master labels itself).
        await setRoleLabel(this.kube, this.c.podName, 'slave').catch(() => undefined);
        return;
      }
      await sleep(Math.min(50, left()));
    }
    failed(`${h.to.host}:${h.to.port} did not take over within ${Date.now() - t0} ms`, 'timeout');
  }

  /** Counted, and kept on the data volume for the next run (the process exits before any scrape). */
  private handoverResult(result: HandoverResult, why: string) {
    this.metrics.handovers.inc({ result });
    keepHandover(this.c.dataDir, { result, at: Date.now(), why });
  }

  /** Alive while the loop runs and Redis answers PING (LOADING counts). */
  async liveness(): Promise<{ ok: boolean; reason: string }> {
    const stuck = this.stuckFor(60_000);
    if (stuck) return { ok: false, reason: `the supervisor has not completed a cycle for ${stuck} ms` };
    try {
      const pong = await withRedis(localRedis(this.c), probeOptions(this.c), (r) => r.ping());
      return { ok: pong === 'PONG', reason: `Redis answers PING with ${pong}` };
    } catch (e) {
      const m = (e as Error).message;
      return /LOADING/.test(m) ? { ok: true, reason: 'Redis is loading its data' } : { ok: false, reason: m };
    }
  }

  /** Ready when the cluster is ok and this node serves: a master with slots, or a replica whose link is up. */
  async readiness(): Promise<{ ok: boolean; reason: string }> {
    const s = await nodeState(this.c, localRedis(this.c));
    if (!s) return { ok: false, reason: 'Redis does not answer' };
    if (s.info.cluster_state !== 'ok') return { ok: false, reason: `cluster_state:${s.info.cluster_state}` };
    const me = s.nodes.find((n) => n.flags.includes('myself'));
    if (me?.flags.includes('master')) {
      const n = slotCount(me);
      return n ? { ok: true, reason: `a master serving ${n} slots` } : { ok: false, reason: 'a master without slots' };
    }
    const repl = await withRedis(localRedis(this.c), probeOptions(this.c), (r) => r.call('INFO', 'replication'))
      .then((i) => parseInfo(String(i)))
      .catch(() => ({}) as Record<string, string>);
    return repl.master_link_status === 'up'
      ? { ok: true, reason: 'a replica, its link to the master up' }
      : { ok: false, reason: `a replica whose link is ${repl.master_link_status ?? 'unknown'}` };
  }

  /** The last state seen (for `launcher role`). */
  lastState(): NodeState | undefined {
    return this.last;
  }
}
