// Redis Cluster mode's SIGTERM rule (cluster/handover.ts acts on it): which replica, if any, takes over from a
// master that is stopping.
import { slotCount, type ClusterNode, type NodeState } from './nodes.ts';

export type ClusterHandover = { kind: 'skip'; reason: string } | { kind: 'failover'; to: ClusterNode; reason: string };

/**
 * SIGTERM on this pod: a master serving slots hands them to its most up-to-date healthy replica (CLUSTER FAILOVER
 * on that replica: the master pauses its writers until the replica has all it acknowledged, then the replica takes
 * over at once) instead of leaving the shard without a master for the node timeout. `offsets`: each replica's
 * replication offset as this master sees it (INFO replication), by `host:port`.
 */
export function clusterHandover(
  s: NodeState | undefined,
  offsets: Record<string, number>,
  /** `host:port` of replicas whose pods are terminating too. */
  going: string[] = [],
  /** A planned switchover's target: this replica (node ID) or none. */
  only?: string,
): ClusterHandover {
  const me = s?.nodes.find((n) => n.flags.includes('myself'));
  if (!s || !me) return { kind: 'skip', reason: 'Redis does not answer' };
  if (!me.flags.includes('master')) return { kind: 'skip', reason: 'this node is a replica' };
  if (!slotCount(me)) return { kind: 'skip', reason: 'this master serves no slot' };
  const bad = ['fail', 'fail?', 'handshake', 'noaddr'];
  const replicas = s.nodes.filter(
    (n) =>
      n.masterId === me.id &&
      n.linkState === 'connected' &&
      !n.flags.some((f) => bad.includes(f)) &&
      !going.includes(`${n.host}:${n.port}`),
  );
  const offset = (n: ClusterNode) => offsets[`${n.host}:${n.port}`];
  const healthy = replicas
    .filter((n) => offset(n) !== undefined)
    .sort((a, b) => offset(b) - offset(a) || a.id.localeCompare(b.id));
  const best = healthy[0];
  if (only !== undefined) {
    // CLUSTER FAILOVER (not FORCE) catches the target up before it takes over, whichever replica it is.
    const chosen = healthy.find((n) => n.id === only);
    if (!chosen) {
      return {
        kind: 'skip',
        reason: `${only.slice(0, 8)} is not a healthy replica (linked and online) of this master`,
      };
    }
    return { kind: 'failover', to: chosen, reason: `the replica asked for, ${chosen.host}:${chosen.port}` };
  }
  if (!best) return { kind: 'skip', reason: 'no healthy replica is attached to this master' };
  return {
    kind: 'failover',
    to: best,
    reason: `its replica ${best.host}:${best.port} (${best.id.slice(0, 8)}) is the most up to date`,
  };
}

/** The replicas' offsets in a master's INFO replication (`slaveN:ip=…,port=…,state=online,offset=…`), online ones. */
export function replicaOffsets(info: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(info)) {
    if (!/^slave\d+$/.test(k)) continue;
    const f = Object.fromEntries(v.split(',').map((x) => x.split('=') as [string, string]));
    if (f.state === 'online') out[`${f.ip}:${f.port}`] = Number(f.offset);
  }
  return out;
}
