// Redis Cluster mode's explicit scaling rules (`launcher cluster …`, commands/cluster.ts acts on them).
import type { PodView } from '../../model.ts';
import type { ClusterNode } from './nodes.ts';

/**
 * Why `remove-shard` must not drain this shard, if it must not: `kubectl scale` removes the highest ordinals, so a
 * shard removed must be exactly the pods with the highest ordinals; any other shard would leave its pods running
 * empty while the scale-down removes pods that serve slots.
 */
export function removeShardProblem(shard: string[], pods: PodView[]): string | undefined {
  const highest = [...pods]
    .sort((a, b) => (b.ordinal ?? 0) - (a.ordinal ?? 0))
    .slice(0, shard.length)
    .map((p) => p.name);
  if (highest.every((n) => shard.includes(n))) return undefined;
  return (
    `the shard is ${shard.join(', ')}, but a scale-down removes the highest ordinals (${highest.join(', ')}), ` +
    'which would take their slots with them: remove the shard on the highest ordinals (move the slots there first)'
  );
}

/** A master's replicas: those a pod runs (to delete with redis-cli del-node) and failed ghosts (to forget). */
export function replicasOf(masterId: string, nodes: ClusterNode[]): { live: ClusterNode[]; ghosts: ClusterNode[] } {
  const all = nodes.filter((n) => n.masterId === masterId);
  const ghost = (n: ClusterNode) => n.flags.includes('fail') || n.flags.includes('noaddr');
  return { live: all.filter((n) => !ghost(n)), ghosts: all.filter(ghost) };
}
