// Redis Cluster mode's supervisor: every second it observes this pod's Redis (CLUSTER INFO, CLUSTER NODES), the
// pods and, when it matters, the peers; decides with clusterAction() (src/cluster/rules/decide.ts); acts (forms the
// cluster once, meets members whose address changed); and keeps the pod's label (redis-role=master|slave) and
// its annotations (node ID, slots) true. Each cycle that does something ends in one log sentence.
import type { Config } from '../config/types.ts';
import { apiFailure, mergePatch, type Kube } from '../kube/api.ts';
import { currentPod, setRoleLabel } from '../kube/pods.ts';
import { log } from '../runtime/log.ts';
import { TlsReloader } from '../runtime/tls-reload.ts';
import { PeriodicLoop } from '../runtime/loop.ts';
import { setRole, type RedisMetrics } from '../runtime/metrics.ts';
import { localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { mayFollow } from '../redis/follow-guard.ts';
import { formCluster } from './bootstrap.ts';
import { handOver } from './handover.ts';
import { recordFormed, recordNodeIds } from './lease.ts';
import { observeCluster } from './observe.ts';
import { clusterLiveness, clusterReadiness } from './probes.ts';
import { clusterAction, type ClusterView } from './rules/decide.ts';
import { inCluster, slotCount, slotText, type NodeState } from './rules/nodes.ts';
import { nodeIdRecord, replacedNodes } from './rules/rejoin.ts';

export const NODE_ID_ANNOTATION = 'redis-ha-launcher/cluster-node-id';
export const SLOTS_ANNOTATION = 'redis-ha-launcher/cluster-slots';

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
  /** The node IDs this pod last recorded on the Lease (its watch may not show them yet). */
  private recorded = '';

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
    if (this.shuttingDown) return;
    if (a.kind === 'formed') {
      if (!this.formedRecorded && !this.bootstrapping) {
        await recordFormed(this.c, this.kube).then(() => {
          this.formedRecorded = true;
          this.say(`recorded: ${a.reason}`);
        });
      }
    } else if (a.kind === 'bootstrap') {
      // Not once this pod recorded the formation (its watch may not have brought the record back yet).
      if (!this.formedRecorded) {
        this.bootstrapping ??= formCluster(this.c, this.kube, a.plan, v, (x) => this.say(x), a.takeOver)
          .then((formed) => {
            if (formed) this.formedRecorded = true;
          })
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
    } else if (a.kind === 'replicate') {
      const m = v.local?.nodes.find((n) => n.id === a.masterId);
      if (m && !(await mayFollow(this.c, this.kube, { host: m.host, port: m.port }))) return;
      await withRedis(localRedis(this.c), probeOptions(this.c), (r) => r.call('CLUSTER', 'REPLICATE', a.masterId))
        .then(() => this.say(`replicating: ${a.reason}`))
        .catch((e: Error) => log.warn(`CLUSTER REPLICATE ${a.masterId}: ${e.message}`));
    } else this.say(`${a.kind === 'wait' ? 'waiting' : 'no action'}: ${a.reason}`);
    if (v.local) await this.keepLabels(v.local);
    if (v.local && inCluster(v.local)) {
      await this.relabelFailed(v);
      await this.keepNodeIdRecord(v);
    }
  }

  /**
   * The Lease records which node ID this pod runs (rules/rejoin.ts: a pod back without its volume rejoins by it),
   * and this member forgets the nodes pods ran before their volumes were lost.
   */
  private async keepNodeIdRecord(v: ClusterView) {
    if (this.shuttingDown) return;
    const ids = nodeIdRecord(v);
    if (ids && ids.join(' ') !== this.recorded) {
      try {
        await recordNodeIds(this.c, this.kube, { [this.c.podName]: ids });
        this.recorded = ids.join(' ');
        this.say(`recorded on the Lease: ${this.c.podName} runs node ${ids[0]}`);
      } catch (e) {
        log.warn(`could not record this pod's node ID on the Lease: ${apiFailure(e).message}`);
      }
    }
    for (const n of replacedNodes(v)) {
      const pod = Object.entries(v.nodeIds ?? {}).find(([, x]) => x.includes(n.id))?.[0] ?? '?';
      await withRedis(localRedis(this.c), probeOptions(this.c), (r) => r.call('CLUSTER', 'FORGET', n.id))
        .then(() => this.say(`forgot node ${n.id}: ${pod} ran it before its volume was lost, and runs another now`))
        .catch((e: Error) => log.warn(`CLUSTER FORGET ${n.id}: ${e.message}`));
    }
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

  /** Alive while the loop runs and Redis answers PING (LOADING counts). */
  async liveness(): Promise<{ ok: boolean; reason: string }> {
    const stuck = this.stuckFor(60_000);
    if (stuck) return { ok: false, reason: `the supervisor has not completed a cycle for ${stuck} ms` };
    return clusterLiveness(this.c);
  }

  readiness(): Promise<{ ok: boolean; reason: string }> {
    return clusterReadiness(this.c);
  }

  /** SIGTERM (cluster/handover.ts): the loop stops first, and a cycle still running labels nothing any more. */
  async handover(): Promise<void> {
    this.shuttingDown = true;
    // A cycle still running finishes first: nothing it records or asks of Redis comes after a scale-in's leave.
    await this.stopAndSettle(2000);
    await handOver(this.c, this.kube, this.metrics);
  }

  /** The last state seen (for `launcher role`). */
  lastState(): NodeState | undefined {
    return this.last;
  }
}
