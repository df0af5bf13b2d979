// Redis Cluster mode's readiness rule: a node is Ready when it does its part (a master serving slots, or a replica
// whose link is up) and the cluster is ok. One exception, decided knowingly: a cluster that is down only because
// another shard is lost (a master the cluster marked failed, no replica took over, fewer than half the masters)
// keeps this node Ready. Otherwise one lost shard would empty the Service, use up the PodDisruptionBudget and stall
// the rollout that brings the shard back. A node the cluster has not taken back yet (just restarted), or one that
// sees half the masters failing (it may be the one cut off), is not Ready.
import { inCluster, slotCount, type NodeState } from './nodes.ts';

export function clusterReady(
  s: NodeState | undefined,
  /** master_link_status from INFO replication, for a replica. */
  link: string | undefined,
): { ok: boolean; reason: string } {
  if (!s) return { ok: false, reason: 'Redis does not answer' };
  const me = s.nodes.find((n) => n.flags.includes('myself'));
  if (!me || !inCluster(s)) return { ok: false, reason: 'not in a cluster' };
  let part: string;
  if (me.flags.includes('master')) {
    const n = slotCount(me);
    if (!n) return { ok: false, reason: 'a master without slots' };
    part = `a master serving ${n} slots`;
  } else {
    if (link !== 'up') return { ok: false, reason: `a replica whose link is ${link ?? 'unknown'}` };
    part = 'a replica, its link to the master up';
  }
  if (s.info.cluster_state === 'ok') return { ok: true, reason: part };
  const masters = s.nodes.filter((n) => n.flags.includes('master') && slotCount(n) > 0);
  const failed = masters.filter((n) => n.flags.includes('fail') && !n.flags.includes('myself'));
  const suspect = masters.filter((n) => n.flags.includes('fail?'));
  if (failed.length && !suspect.length && failed.length * 2 < masters.length) {
    const lost = failed.map((n) => `${n.host}:${n.port}`).join(', ');
    return {
      ok: true,
      reason: `${part}; cluster_state:fail only because the shard of ${lost} is lost (this node does its part)`,
    };
  }
  return { ok: false, reason: `cluster_state:${s.info.cluster_state ?? 'unknown'}` };
}
