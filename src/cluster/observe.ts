// What a cluster node's supervisor sees: its own Redis (CLUSTER INFO, CLUSTER NODES, DBSIZE), the pods, the
// bootstrap Lease, and the peers that matter for the decision (src/cluster/rules/decide.ts).
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { currentPods } from '../kube/pods.ts';
import { statefulSetOrdinals } from '../kube/statefulsets.ts';
import { isLive, type Address, type PodView } from '../model.ts';
import { localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { parseInfo } from '../redis/replies.ts';
import { bootstrapLease, currentClusterLease } from './lease.ts';
import { inCluster, parseClusterNodes, type NodeState } from './rules/nodes.ts';
import { type ClusterView } from './rules/decide.ts';

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
  // A member asks only the peers it does not know by address; a fresh node, and every pod while a bootstrap is
  // unfinished (its holder, or a pod that may take it over, needs every pod's state), ask every live peer.
  // So does a master serving no slot (a pod rejoining after its volume was lost: rules/rejoin.ts).
  const me = local?.nodes.find((n) => n.flags.includes('myself'));
  const askAll = Boolean(lease?.holder && !lease.formedAt) || Boolean(me?.flags.includes('master') && !me.slots.length);
  const ask = pods
    .filter(isLive)
    .filter((p) => p.name !== c.podName)
    .filter((p) => askAll || !local || !inCluster(local) || !known.has(`${podAddress(c, p).host}:${c.redisPort}`));
  const answers = await Promise.all(ask.map((p) => nodeState(c, podAddress(c, p))));
  const self = pods.find((p) => p.name === c.podName);
  // Only when the Lease's holder has no pod: would its StatefulSet bring it back?
  const holderAbsent = lease?.holder && !lease.formedAt && !pods.some((p) => p.name === lease.holder);
  const kept =
    holderAbsent && self?.owner ? await statefulSetOrdinals(kube, self.owner).catch(() => undefined) : undefined;
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
    ...(lease?.plan ? { bootstrapPlan: lease.plan } : {}),
    ...(lease ? { holderSilentMs: lease.unchangedMs, bootstrapLeaseVersion: lease.resourceVersion } : {}),
    ...(kept ? { keptOrdinals: kept } : {}),
    ...(lease ? { nodeIds: lease.nodeIds } : {}),
    bootstrapLease: bootstrapLease(c),
    namespace: kube.namespace,
  };
}
