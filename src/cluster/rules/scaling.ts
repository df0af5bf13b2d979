// Redis Cluster mode's explicit scaling rules (`launcher cluster …`, commands/cluster.ts acts on them).
import type { PodView } from '../../model.ts';
import { slotCount, slotText, type ClusterNode, type NodeState } from './nodes.ts';

/**
 * Why `remove-shard` must not drain this shard, if it must not: `kubectl scale` removes the highest ordinals, so a
 * shard removed must be exactly the pods with the highest ordinals; any other shard would leave its pods running
 * empty while the scale-down removes pods that serve slots.
 */
export function removeShardProblem(shard: string[], pods: PodView[], outside: string[] = []): string | undefined {
  // Pods outside the cluster and empty (`outside`) may go with it: a scale-down loses nothing of theirs.
  const highest = [...pods]
    .filter((p) => !outside.includes(p.name))
    .sort((a, b) => (b.ordinal ?? 0) - (a.ordinal ?? 0))
    .slice(0, shard.length)
    .map((p) => p.name);
  if (highest.every((n) => shard.includes(n))) return undefined;
  return (
    `the shard is ${shard.join(', ')}, but a scale-down removes the highest ordinals (${highest.join(', ')}), ` +
    'which would take their slots with them: remove the shard on the highest ordinals (move the slots there first)'
  );
}

/**
 * A master's replicas: those a pod runs (to delete with redis-cli del-node) and ghosts (to forget): failed, or at an
 * address no live pod has (`podAt`), as a replica that left by a scale-down is while this master was down.
 */
export function replicasOf(
  masterId: string,
  nodes: ClusterNode[],
  podAt: (host: string) => boolean = () => true,
): { live: ClusterNode[]; ghosts: ClusterNode[] } {
  const all = nodes.filter((n) => n.masterId === masterId);
  const ghost = (n: ClusterNode) => n.flags.includes('fail') || n.flags.includes('noaddr') || !podAt(n.host);
  return { live: all.filter((n) => !ghost(n)), ghosts: all.filter(ghost) };
}

/** The ordinals a StatefulSet keeps: `start` .. `start + replicas - 1`. */
export type KeptOrdinals = { start: number; replicas: number; scaledVolumesDeleted?: boolean };

/** A pod whose ordinal its StatefulSet no longer keeps leaves by a scale-down: it is not coming back. */
export const leavesByScaleIn = (ordinal: number | null | undefined, kept: KeptOrdinals | undefined) =>
  ordinal !== null &&
  ordinal !== undefined &&
  kept !== undefined &&
  (ordinal < kept.start || ordinal >= kept.start + kept.replicas);

const failing = (n: ClusterNode) => ['fail', 'fail?', 'noaddr'].some((f) => n.flags.includes(f));
const at = (n: ClusterNode) => `${n.host}:${n.port}`;

/**
 * What a master leaving by a scale-down does on SIGTERM, given what the ordinary handover would do (`heir`: a
 * replica that stays can take its slots over): hand over to it, or drain the slots to the masters that stay, then
 * leave the cluster; a master serving no slot leaves at once. (A replica: replicaLeaving.)
 */
export function scaleInStep(me: ClusterNode | undefined, heir: boolean): 'handover' | 'drain' | 'leave' {
  if (!me || !me.flags.includes('master') || !slotCount(me)) return 'leave';
  return heir ? 'handover' : 'drain';
}

/**
 * `--cluster-weight` for a drain: weight 0 for every master serving slots whose pod leaves (by `host:port` in
 * `leaving`) and that no replica that stays can take over (those hand over instead), so that no slot moves from one
 * leaver to another; undefined when no master stays to take the slots (a scale-down below one shard).
 */
export function drainWeights(nodes: ClusterNode[], leaving: string[]): string[] | undefined {
  const masters = nodes.filter((n) => n.flags.includes('master') && slotCount(n) > 0 && !failing(n));
  const heir = (m: ClusterNode) => nodes.some((r) => r.masterId === m.id && !failing(r) && !leaving.includes(at(r)));
  const drained = masters.filter((m) => leaving.includes(at(m)) && !heir(m));
  if (!masters.some((m) => !leaving.includes(at(m)))) return undefined;
  return drained.map((m) => `${m.id}=0`);
}

export type ReplicaLeave = { kind: 'leave' | 'wait' | 'keep'; reason: string };

/**
 * Whether a replica leaving by a scale-down may leave the cluster (and empty itself): only while its master is
 * healthy and either leaves too, serves no slot (drained), or stays with its link to this replica up (a link down:
 * wait); a replica of a failing master may hold the only live copy of its slots, and keeps it.
 */
export function replicaLeaving(
  me: ClusterNode,
  nodes: ClusterNode[],
  leaving: string[],
  linkUp: boolean,
): ReplicaLeave {
  const master = nodes.find((n) => n.id === me.masterId);
  if (!master) return { kind: 'keep', reason: 'its master is not known' };
  const name = `its master ${master.host}:${master.port}`;
  if (failing(master)) {
    return { kind: 'keep', reason: `${name} is failing: this replica may hold the only live copy of its slots` };
  }
  if (!slotCount(master)) return { kind: 'leave', reason: `${name} serves no slot (drained)` };
  // Its master leaves by the same scale-down: the data goes with that master (drained to the masters that stay,
  // or kept on its volume), and this pod's volume goes or stays with the master's alike: nothing to wait for.
  if (leaving.includes(at(master))) {
    return { kind: 'leave', reason: `${name} leaves too: its data stays with it (drained, or on its volume)` };
  }
  // Down for a moment after Redis moved it to another master (its master's last slots went there), or its master
  // is going down before the cluster says so: wait, and decide on what follows.
  if (!linkUp) return { kind: 'wait', reason: `its link to ${name.slice(4)} is down` };
  return { kind: 'leave', reason: `${name} stays and serves its slots` };
}

/** Why a node may not leave the cluster yet (it would take slots or keys with it), or undefined. */
export function leaveProblem(s: NodeState | undefined): string | undefined {
  const me = s?.nodes.find((n) => n.flags.includes('myself'));
  if (!s || !me) return 'Redis does not answer';
  if (slotCount(me)) return `it still serves ${slotCount(me)} slots (${slotText(me)})`;
  if (me.open?.length) return `it has ${me.open.length} slots open (a move stopped half-way)`;
  if (me.flags.includes('master') && s.keys > 0) return `it is a master holding ${s.keys} keys`;
  return undefined;
}

/**
 * Whom a replica added to a formed cluster follows (`launcher cluster add-replica`): of the masters serving slots
 * and not failing, the one with the fewest replicas; among those, one in another zone than the new pod, then on
 * another Kubernetes node, then the lowest ordinal. Undefined when no master serves slots.
 */
export function replicaTarget(
  nodes: ClusterNode[],
  podOf: (n: ClusterNode) => PodView | undefined,
  pod: PodView,
): ClusterNode | undefined {
  const score = (m: ClusterNode) => {
    const p = podOf(m);
    return [
      nodes.filter((r) => r.masterId === m.id && !failing(r)).length,
      p?.zone && p.zone === pod.zone ? 1 : 0,
      p?.node && p.node === pod.node ? 1 : 0,
      p?.ordinal ?? Number.MAX_SAFE_INTEGER,
    ];
  };
  const before = (a: number[], b: number[]) => a.findIndex((x, i) => x !== b[i]);
  return nodes
    .filter((n) => n.flags.includes('master') && !failing(n) && slotCount(n) > 0)
    .map((n) => ({ n, s: score(n) }))
    .sort((a, b) => {
      const i = before(a.s, b.s);
      return i < 0 ? 0 : a.s[i] - b.s[i];
    })[0]?.n;
}
