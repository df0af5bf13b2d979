// Redis Cluster mode, a pod back without its volume (no nodes.conf, no data: Redis gives it a new node ID): the rules
// that let it rejoin by itself as a replica, and that forget the node it ran before. Which node ID each pod runs is
// recorded on the bootstrap Lease, which outlives the pods (a Pod's annotations die with it): the ID it runs now
// first, then the ones it ran before, newest first. A pod rejoins only empty, only once the cluster has failed its
// old node and that node serves no slot (its replica took them over): a replica added can lose nothing.
import type { Address } from '../../model.ts';
import { inCluster, slotCount, type ClusterNode, type NodeState } from './nodes.ts';

/** The node IDs each pod ran, by pod name: the one it runs now first, then those it ran before, newest first. */
export type NodeIdRecord = Record<string, string[]>;

/** How many replaced node IDs the record keeps per pod (enough for every member to forget them). */
export const REPLACED_KEPT = 3;

/** What the rules read of a cluster node's view (a subset of ClusterView, which see). */
export type RejoinView = {
  self: { name: string };
  redisPort: number;
  pods: { name: string; ip?: string; ordinal?: number | null; clusterNodeId?: string }[];
  local?: NodeState;
  peers: Record<string, NodeState | undefined>;
  nodeIds?: NodeIdRecord;
  /** When the Lease says the cluster was formed: nothing is recorded before (a record write changes the Lease). */
  formedAt?: string;
};

export type RejoinAction =
  | { kind: 'wait'; reason: string }
  | { kind: 'meet'; addresses: Address[]; reason: string }
  | { kind: 'replicate'; masterId: string; reason: string };

const short = (id: string) => id.slice(0, 8);
const failing = (n: ClusterNode) => n.flags.includes('fail') || n.flags.includes('fail?');
/** Gone for good as the cluster sees it: failed, or without an address (its IP answers with another node ID). */
const gone = (n: ClusterNode) => n.flags.includes('fail') || n.flags.includes('noaddr');
const myself = (s: NodeState | undefined) => s?.nodes.find((n) => n.flags.includes('myself'));

/** How the members this pod reached see node `id` (never a node's view of itself). */
function viewsOf(v: RejoinView, id: string): ClusterNode[] {
  return [v.local, ...Object.values(v.peers)]
    .filter((s): s is NodeState => Boolean(s && inCluster(s)))
    .flatMap((s) => s.nodes.filter((n) => n.id === id && !n.flags.includes('myself')));
}

/**
 * Why the node this pod ran before may not be replaced yet, if it may not: it still serves slots (no replica took
 * them over), or the cluster has not failed it yet. Undefined: the cluster failed it and it serves no slot.
 */
function notReplaceable(views: ClusterNode[], old: string): string | undefined {
  const served = Math.max(...views.map(slotCount));
  if (served > 0) {
    return (
      `node ${short(old)}, which this pod ran before its volume was lost, still serves ${served} slots: this pod ` +
      "rejoins as a replica once a replica of that node has taken them over (with no replica, the shard's data is " +
      'lost with the volume: see launcher status)'
    );
  }
  if (!views.some(gone)) {
    return `the cluster has not failed node ${short(old)}, which this pod ran before its volume was lost, yet`;
  }
  return undefined;
}

/**
 * A pod not in the cluster (no nodes.conf) whose record names a node the cluster still knows: it lost its volume.
 * Empty, and once the old node is failed and serves no slot, it meets a member (then `replacement` makes it a
 * replica). Undefined when the record says nothing of this pod or the cluster forgot its node: then it joins only
 * when asked.
 */
export function freshRejoin(v: RejoinView): RejoinAction | undefined {
  const old = v.nodeIds?.[v.self.name]?.[0];
  const local = v.local;
  if (!old || !local) return undefined;
  const members = v.pods
    .filter((p) => p.name !== v.self.name && p.ip)
    .filter((p) => {
      const s = v.peers[p.name];
      return s && inCluster(s);
    })
    .sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0));
  const views = viewsOf(v, old);
  if (!members.length || !views.length) return undefined;
  if (local.keys > 0) {
    return {
      kind: 'wait',
      reason:
        `this pod ran node ${short(old)} of the cluster and is back without its nodes.conf but with ${local.keys} ` +
        'keys: a pod holding data is never flushed to rejoin; empty it, or bring its nodes.conf back',
    };
  }
  const why = notReplaceable(views, old);
  if (why) return { kind: 'wait', reason: why };
  return {
    kind: 'meet',
    addresses: [{ host: members[0].ip ?? '', port: v.redisPort }],
    reason:
      `this pod ran node ${short(old)}, lost with its volume; the cluster failed it and it serves no slot: this pod ` +
      `rejoins empty through ${members[0].name}, to be a replica`,
  };
}

/**
 * A master serving no slot whose record names another node ID for its pod: it rejoined after its volume was lost
 * (freshRejoin). It becomes a replica of the master its old node followed if that one serves slots and is not
 * failing, else of the master with the fewest replicas. Undefined when it is not such a node.
 */
export function replacement(v: RejoinView): RejoinAction | undefined {
  const old = v.nodeIds?.[v.self.name]?.[0];
  const local = v.local;
  const me = myself(local);
  if (!old || !local || !me || me.id === old || !me.flags.includes('master') || slotCount(me) > 0) return undefined;
  const views = viewsOf(v, old);
  if (!views.length) return undefined;
  const why = notReplaceable(views, old);
  if (why) return { kind: 'wait', reason: why };
  // Not before it knows every node its peers know: the master with the fewest replicas is counted on all of them.
  const knownHere = new Set(local.nodes.filter((n) => !n.flags.includes('handshake')).map((n) => n.id));
  const unknown = Object.values(v.peers)
    .flatMap((s) => s?.nodes ?? [])
    .filter((n) => !gone(n) && !n.flags.includes('handshake') && !knownHere.has(n.id));
  if (unknown.length) {
    return { kind: 'wait', reason: `rejoining: this node does not know ${unknown.length} of the cluster's nodes yet` };
  }
  const masters = local.nodes.filter((n) => n.flags.includes('master') && !failing(n) && slotCount(n) > 0);
  const followers = (m: ClusterNode) => local.nodes.filter((n) => n.masterId === m.id && !failing(n)).length;
  const before = views.map((n) => n.masterId).find(Boolean);
  const target =
    masters.find((m) => m.id === before) ??
    [...masters].sort((a, b) => followers(a) - followers(b) || a.id.localeCompare(b.id))[0];
  if (!target) return { kind: 'wait', reason: 'rejoining: no master serving slots is known yet' };
  const pod = v.pods.find((p) => p.clusterNodeId === target.id)?.name ?? `node ${short(target.id)}`;
  const which = target.id === before ? 'the master its old node followed' : 'the master with the fewest replicas';
  return {
    kind: 'replicate',
    masterId: target.id,
    reason: `this pod rejoined after its volume was lost (it ran node ${short(old)}): it follows ${pod}, ${which}`,
  };
}

/**
 * The record of this pod's node IDs once it is a replica or serves slots, when it does not name its node first;
 * undefined when it does (or this node has no role yet: a rejoin, or a shard being added, is not finished), and
 * while the cluster is not formed (every write renews the Lease's version, which a bootstrap take-over waits on).
 */
export function nodeIdRecord(v: RejoinView): string[] | undefined {
  const me = myself(v.local);
  // No record without the Lease (a cluster formed by hand, or the Lease unreadable).
  if (!me || !v.local || !inCluster(v.local) || !v.nodeIds || !v.formedAt) return undefined;
  const before = v.nodeIds?.[v.self.name] ?? [];
  if (before[0] === me.id || !(me.flags.includes('slave') || slotCount(me) > 0)) return undefined;
  return [me.id, ...before.filter((id) => id !== me.id)].slice(0, 1 + REPLACED_KEPT);
}

/**
 * Nodes this member forgets (CLUSTER FORGET, on itself only: every member's launcher does the same): nodes a pod
 * ran before its volume was lost (the record names them as replaced, and no pod as its node), gone, serving no
 * slot, and followed by no node that is not failing. Never this node's own master (Redis refuses it).
 */
export function replacedNodes(v: RejoinView): ClusterNode[] {
  const local = v.local;
  const me = myself(local);
  if (!local || !me || !inCluster(local)) return [];
  const record = Object.values(v.nodeIds ?? {});
  const current = new Set(record.map((ids) => ids[0]));
  const replaced = new Set(record.flatMap((ids) => ids.slice(1)).filter((id) => !current.has(id)));
  return local.nodes.filter(
    (n) =>
      replaced.has(n.id) &&
      n !== me &&
      me.masterId !== n.id &&
      gone(n) &&
      slotCount(n) === 0 &&
      !local.nodes.some((x) => x.masterId === n.id && !failing(x)),
  );
}
