// Redis Cluster mode's explicit scaling rules (`launcher cluster …`, commands/cluster.ts acts on them).
import type { PodView } from '../../model.ts';
import { slotCount, type ClusterNode } from './nodes.ts';

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
export type KeptOrdinals = { start: number; replicas: number };

/** A pod whose ordinal its StatefulSet no longer keeps leaves by a scale-down: it is not coming back. */
export const leavesByScaleIn = (ordinal: number | null | undefined, kept: KeptOrdinals | undefined) =>
  ordinal !== null &&
  ordinal !== undefined &&
  kept !== undefined &&
  (ordinal < kept.start || ordinal >= kept.start + kept.replicas);

/**
 * What a pod leaving by a scale-down does on SIGTERM, given what the ordinary handover would do (`heir`: a replica
 * that stays and can take this master's slots over): hand over to it, or drain the slots to the masters that stay,
 * then leave the cluster; a replica, or a master serving no slot, leaves at once.
 */
export function scaleInStep(me: ClusterNode | undefined, heir: boolean): 'handover' | 'drain' | 'leave' {
  if (!me || !me.flags.includes('master') || !slotCount(me)) return 'leave';
  return heir ? 'handover' : 'drain';
}

/**
 * `--cluster-weight` for the drain: weight 0 for every master serving slots whose pod leaves (by address: `leaving`
 * holds their `host:port`), so that no slot moves from one leaver to another.
 */
export function drainWeights(nodes: ClusterNode[], leaving: string[]): string[] {
  return nodes
    .filter((n) => n.flags.includes('master') && slotCount(n) > 0 && leaving.includes(`${n.host}:${n.port}`))
    .map((n) => `${n.id}=0`);
}
