// Redis Cluster mode: every rule of what a pod's supervisor does, as pure functions of what it observed, each
// answer with its reason in plain words. Redis itself fails a master over to its replica; the launcher forms the
// cluster once (one pod, guarded by a Lease), re-introduces members whose address changed, and keeps the labels
// true. It never flushes a pod that holds data and never grows or shrinks the cluster on its own: scaling is an
// explicit command (`launcher cluster add-shard|rebalance|remove-shard`).
import type { Address, LivePod, PodView } from '../../model.ts';
import { CLUSTER_SLOTS, inCluster, settled, type NodeState } from './nodes.ts';
import { freshRejoin, replacement, type NodeIdRecord } from './rejoin.ts';

export type BootstrapPlan = {
  masters: { pod: string; from: number; to: number }[];
  replicas: { pod: string; of: string }[];
};

/**
 * The first layout: the lowest ordinals are the masters, the 16384 slots split evenly (the first ones one more);
 * the other pods are spread evenly over the masters, each in another zone (where the pods carry their zone) and on
 * another Kubernetes node than its master where the pods' placement allows it, so that losing a zone or a node
 * does not take a shard down.
 */
export function bootstrapPlan(pods: LivePod[], masters: number, replicasPerMaster: number): BootstrapPlan {
  const sorted = [...pods].sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0));
  const ms = sorted.slice(0, masters);
  const per = Math.floor(CLUSTER_SLOTS / masters);
  const extra = CLUSTER_SLOTS % masters;
  let next = 0;
  const plan: BootstrapPlan = { masters: [], replicas: [] };
  ms.forEach((p, i) => {
    const n = per + (i < extra ? 1 : 0);
    plan.masters.push({ pod: p.name, from: next, to: next + n - 1 });
    next += n;
  });
  // Replica j follows master (j + shift) mod masters: every master gets the same number; of the shifts, the one
  // that puts the fewest replicas in their master's zone wins, then the fewest on their master's node.
  const rs = sorted.slice(masters, masters * (1 + replicasPerMaster));
  const clashes = (shift: number, where: (p: LivePod) => string | undefined) =>
    rs.filter((r, j) => {
      const at = where(ms[(j + shift) % ms.length]);
      return Boolean(at && at === where(r));
    }).length;
  const clash = (shift: number) => clashes(shift, (p) => p.zone) * (rs.length + 1) + clashes(shift, (p) => p.node);
  const shifts = ms.map((_, k) => k);
  const best = shifts.reduce((x, k) => (clash(k) < clash(x) ? k : x), 0);
  rs.forEach((r, j) => plan.replicas.push({ pod: r.name, of: ms[(j + best) % ms.length].name }));
  return plan;
}

/**
 * How long the bootstrap Lease may stay unchanged, as a pod sees it, while its holder's pod does not answer, before
 * the lowest ordinal takes it over (the holder renews it while it forms the cluster).
 */
export const BOOTSTRAP_LEASE_MS = 30_000;

export type ClusterView = {
  self: { name: string; ordinal: number | null };
  redisPort: number;
  /** masters x (1 + replicas per master): the pods the first bootstrap waits for. */
  desired: number;
  masters: number;
  replicasPerMaster: number;
  pods: PodView[];
  /** This pod's Redis; undefined when it does not answer. */
  local?: NodeState;
  /** The live peers' Redis, by pod name (undefined: no answer). */
  peers: Record<string, NodeState | undefined>;
  /** Who holds the bootstrap Lease, if anyone (a pod that won it forms the cluster, even if not the lowest). */
  bootstrapHolder?: string;
  /** When the cluster was formed, as the Lease says: no bootstrap ever again. */
  formedAt?: string;
  /** The plan the holder stored on the Lease when it began: a resumed bootstrap runs only that one. */
  bootstrapPlan?: BootstrapPlan;
  /** How long this pod has seen the bootstrap Lease unchanged (its holder renews it while it forms). */
  holderSilentMs?: number;
  /** The version of the Lease observed: a take-over writes at that version or not at all. */
  bootstrapLeaseVersion?: string;
  /** The ordinals this pod's StatefulSet keeps (asked only when the Lease's holder has no pod). */
  keptOrdinals?: { start: number; replicas: number };
  /** The bootstrap Lease's name and namespace, for advice in words. */
  bootstrapLease?: string;
  namespace?: string;
  /** The node IDs each pod ran, as the bootstrap Lease records them (rules/rejoin.ts). */
  nodeIds?: NodeIdRecord;
};

export type ClusterAction =
  | { kind: 'none'; reason: string }
  | { kind: 'wait'; reason: string }
  /** `takeOver`: the Lease is another pod's (gone, or silent for BOOTSTRAP_LEASE_MS): taken first, by its version. */
  | { kind: 'bootstrap'; plan: BootstrapPlan; reason: string; takeOver?: boolean }
  /** The holder's bootstrap is done (every slot served, every node a master with slots or a replica): record it. */
  | { kind: 'formed'; reason: string }
  | { kind: 'meet'; addresses: Address[]; reason: string }
  /** A pod back without its volume, rejoined (rules/rejoin.ts): CLUSTER REPLICATE. */
  | { kind: 'replicate'; masterId: string; reason: string };

const isLive = (p: PodView): p is LivePod => Boolean(p.ip) && p.phase === 'Running' && !p.terminating;

export function clusterAction(v: ClusterView): ClusterAction {
  const local = v.local;
  if (!local) return { kind: 'none', reason: 'Redis does not answer' };
  const live = v.pods.filter(isLive);
  const peers = live.filter((p) => p.name !== v.self.name);
  // The holder of the Lease whose bootstrap did not finish (it died or timed out half-way, before the Lease
  // recorded the cluster formed) runs it again once every pod answers: each step is skipped where it is done.
  // Also when this pod's own nodes.conf forgot the MEETs (killed before it was written): its peers may know each
  // other already, but nobody else may finish what the holder began.
  const takeOver = takeOverWhy(v, live);
  if ((v.bootstrapHolder === v.self.name || takeOver) && !v.formedAt && (inCluster(local) || local.keys === 0)) {
    // Nothing left to do (the holder died after the last step, or the cluster was formed before the Lease
    // recorded formations): only the record is written; no step runs on a cluster that serves.
    if (settled(local)) {
      return {
        kind: 'formed',
        reason: 'the cluster is whole and every node has its role: the Lease records it formed',
      };
    }
    const stateOf = (p: PodView) => (p.name === v.self.name ? local : v.peers[p.name]);
    const all = live.filter((p) => stateOf(p));
    // A node alone with keys is no cluster's (Redis gave it the slots of its keys, perhaps all of them): never met.
    const stray = all.filter((p) => {
      const s = stateOf(p);
      return s && Number(s.info.cluster_known_nodes ?? 1) <= 1 && s.keys > 0;
    });
    const why = takeOver
      ? `${v.bootstrapHolder} holds the bootstrap Lease and ${takeOver}: this pod takes it over and forms the cluster`
      : 'this pod holds the bootstrap Lease and the bootstrap did not finish: it runs it again';
    // The plan stored when the bootstrap began, never a new one (a new one could give a range another owner).
    const stored = v.bootstrapPlan;
    const missing = stored
      ? [...stored.masters, ...stored.replicas].map((x) => x.pod).filter((n) => !all.some((p) => p.name === n))
      : [];
    if (missing.length) {
      const which = `${missing.join(', ')}, which ${missing.length > 1 ? 'do' : 'does'} not answer`;
      return { kind: 'wait', reason: `the stored bootstrap plan needs ${which}` };
    }
    if ((stored || all.length >= v.desired) && !stray.length) {
      return {
        kind: 'bootstrap',
        plan: stored ?? bootstrapPlan(all, v.masters, v.replicasPerMaster),
        reason: why,
        ...(takeOver ? { takeOver: true } : {}),
      };
    }
  }
  if (inCluster(local)) {
    // A member whose address changed (a pod back with a new IP, a full restart) is met again, recognised by its
    // node ID: it keeps its ID, slots and role. Nobody else is met: not a fresh pod (joining is an explicit
    // add-shard), not a node of another cluster (an explicit MEET would merge the clusters).
    const lost = peers.filter((p) => {
      const me = v.peers[p.name]?.nodes.find((n) => n.flags.includes('myself'));
      const known = me && local.nodes.find((n) => n.id === me.id);
      return known && `${known.host}:${known.port}` !== `${p.ip}:${v.redisPort}`;
    });
    if (lost.length) {
      return {
        kind: 'meet',
        addresses: lost.map((p) => ({ host: p.ip, port: v.redisPort })),
        reason:
          `${lost.map((p) => p.name).join(', ')} ${lost.length > 1 ? 'are members' : 'is a member'} this node ` +
          'knows at another address: CLUSTER MEET',
      };
    }
    return (
      replacement(v) ?? {
        kind: 'none',
        reason: `a member of the cluster (${local.info.cluster_state ?? 'unknown'} state)`,
      }
    );
  }
  // A fresh node (no nodes.conf of a cluster): back without its volume (the record names the node it ran), it
  // rejoins as a replica by itself.
  const back = freshRejoin(v);
  if (back) return back;
  if (v.formedAt) {
    const states = live.map((p) => (p.name === v.self.name ? local : v.peers[p.name]));
    const empty = states.every((s) => s && !inCluster(s) && s.keys === 0);
    if (empty && states.length >= v.desired) {
      const lease = v.bootstrapLease;
      const ns = v.namespace ? ` -n ${v.namespace}` : '';
      return {
        kind: 'wait',
        reason:
          `the ${lease ? `Lease ${lease}` : 'bootstrap Lease'} says the cluster was formed at ${v.formedAt}, but all ` +
          `${states.length} pods are fresh and empty (new volumes: a reinstall?); a cluster is never formed twice: ` +
          `to form a new one, ${lease ? `kubectl delete lease ${lease}${ns}` : 'delete that Lease'}`,
      };
    }
    return {
      kind: 'wait',
      reason:
        `the cluster was formed at ${v.formedAt} (its Lease says so) and this pod is not in it; it joins only ` +
        'when asked (launcher cluster add-shard); a cluster is never formed twice',
    };
  }
  const member = peers.find((p) => {
    const s = v.peers[p.name];
    return s && inCluster(s);
  });
  if (member) {
    return {
      kind: 'wait',
      reason:
        `the cluster exists (${member.name} is a member) and this pod is not in it; it joins only when asked ` +
        '(launcher cluster add-shard)',
    };
  }
  const stateOf = (p: PodView) => (p.name === v.self.name ? local : v.peers[p.name]);
  const answering = live.filter((p) => stateOf(p));
  if (answering.length < v.desired) {
    return {
      kind: 'wait',
      reason:
        `${answering.length} of ${v.desired} pods answer (${v.masters} masters x ${1 + v.replicasPerMaster}); ` +
        'the cluster is formed once all do',
    };
  }
  const withData = answering.filter((p) => (stateOf(p)?.keys ?? 0) > 0);
  if (withData.length) {
    return {
      kind: 'wait',
      reason:
        `${withData.map((p) => p.name).join(', ')} ${withData.length > 1 ? 'hold' : 'holds'} keys and no cluster ` +
        'exists: a pod holding data is never flushed to join; move the data or empty it first',
    };
  }
  // The Lease's holder forms it: two pods that both thought themselves first (each with its own partial view)
  // raced for the Lease, and only the winner goes on, whatever its ordinal.
  const holder = v.bootstrapHolder;
  if (holder && !answering.some((p) => p.name === holder)) {
    return {
      kind: 'wait',
      reason: `${holder} holds the bootstrap Lease but does not answer; once it is back it forms the cluster`,
    };
  }
  const first = holder ?? [...answering].sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0))[0].name;
  const why = holder ? 'holds the bootstrap Lease' : 'has the lowest ordinal';
  if (first !== v.self.name) {
    return { kind: 'wait', reason: `all ${v.desired} pods are fresh; ${first} (it ${why}) forms the cluster` };
  }
  return {
    kind: 'bootstrap',
    plan: bootstrapPlan(answering, v.masters, v.replicasPerMaster),
    reason: `all ${v.desired} pods are fresh and empty, and this pod ${why}: it forms the cluster`,
  };
}

/**
 * Why this pod may take the bootstrap Lease over from its holder, if it may: the cluster is not formed, the holder
 * is not this pod and does not answer, and either no pod of that name exists or will (its ordinal scaled away) or
 * the Lease has not changed for BOOTSTRAP_LEASE_MS (a holder forming the cluster renews it; a pod deleted and being
 * recreated comes back well within that, and resumes itself); and this pod has the lowest ordinal of those that
 * answer. Undefined otherwise.
 */
function takeOverWhy(v: ClusterView, live: LivePod[]): string | undefined {
  const holder = v.bootstrapHolder;
  if (!holder || holder === v.self.name || v.formedAt) return undefined;
  const answering = live.filter((p) => (p.name === v.self.name ? v.local : v.peers[p.name]));
  if (answering.some((p) => p.name === holder)) return undefined;
  const lowest = [...answering].sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0))[0];
  if (lowest?.name !== v.self.name) return undefined;
  const ordinal = Number(/-(\d+)$/.exec(holder)?.[1] ?? NaN);
  const kept = v.keptOrdinals;
  if (
    !v.pods.some((p) => p.name === holder) &&
    kept &&
    !(ordinal >= kept.start && ordinal < kept.start + kept.replicas)
  ) {
    return 'no pod of that name exists or will (its StatefulSet keeps no such ordinal)';
  }
  const silent = v.holderSilentMs ?? 0;
  return silent >= BOOTSTRAP_LEASE_MS
    ? `its pod does not answer and the Lease has not changed for ${Math.round(silent / 1000)} s`
    : undefined;
}
