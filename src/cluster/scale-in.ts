// SIGTERM on a cluster node whose pod leaves by a scale-down (its StatefulSet no longer keeps its ordinal: a plain
// `kubectl scale`, with no remove-shard first). A master serving slots hands them to a replica that stays, or else
// drains them to the masters that stay (redis-cli --cluster rebalance, one scaling operation at a time); then the
// node leaves the cluster (every member forgets it, and it forgets the cluster), as remove-shard's del-node does.
// A drain that cannot finish leaves the slots on the pod's volume: a Warning Event, and `status` says to scale back.
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { statefulSetOrdinals } from '../kube/statefulsets.ts';
import { addr, type PodView } from '../model.ts';
import { localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { log } from '../runtime/log.ts';
import { withAdminLock } from './admin-lock.ts';
import { recordNodeIds } from './lease.ts';
import { nodeState, podAddress } from './observe.ts';
import { moveSlots } from './redis-cli.ts';
import { slotCount, slotText, type ClusterNode } from './rules/nodes.ts';
import { drainWeights, leavesByScaleIn, type KeptOrdinals } from './rules/scaling.ts';

/** The ordinals this pod's StatefulSet keeps, when this pod is not one of them (it leaves by a scale-down). */
export async function scaleInOf(kube: Kube, self: PodView | undefined): Promise<KeptOrdinals | undefined> {
  if (!self?.owner) return undefined;
  const kept = await statefulSetOrdinals(kube, self.owner).catch(() => undefined);
  return leavesByScaleIn(self.ordinal, kept) ? kept : undefined;
}

/**
 * This master's slots moved to the masters that stay, before `deadline`: rebalance with weight 0 for every
 * leaving master, holding the admin Lease (waited for until the deadline). The output is logged only on failure.
 */
export async function drainForScaleIn(
  c: Config,
  kube: Kube,
  me: ClusterNode,
  pods: PodView[],
  kept: KeptOrdinals,
  deadline: number,
): Promise<{ ok: true; why: string } | { ok: false; why: string }> {
  const t0 = Date.now();
  const lines: string[] = [];
  const out = (l: string) => void lines.push(l);
  const stop = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
  const entry = addr(localRedis(c));
  try {
    const r = await withAdminLock(c, kube, Math.max(0, deadline - Date.now()), async () => {
      // Read again under the Lease: another leaver may have drained this master already.
      const now = await nodeState(c, localRedis(c));
      const self = now?.nodes.find((n) => n.flags.includes('myself'));
      if (!now || !self) throw new Error('Redis does not answer');
      if (!slotCount(self)) return;
      const leaving = pods
        .filter((p) => p.ip && p.phase === 'Running' && leavesByScaleIn(p.ordinal, kept))
        .map((p) => addr(podAddress(c, p)));
      const weights = drainWeights(now.nodes, [...leaving, `${self.host}:${self.port}`]);
      await moveSlots(c, entry, ['rebalance', entry, '--cluster-weight', ...weights], out, stop);
    });
    if (!r.locked) return { ok: false, why: `the Lease ${r.lock} stayed held by another scaling operation` };
    return { ok: true, why: `its ${slotCount(me)} slots moved to the masters that stay in ${Date.now() - t0} ms` };
  } catch (e) {
    for (const l of lines.slice(-5)) log.warn(`redis-cli:${l}`);
    const why = stop.aborted ? `it did not finish within ${Date.now() - t0} ms` : (e as Error).message;
    return { ok: false, why: `slots ${slotText(me)} could not be moved to the masters that stay: ${why}` };
  }
}

/**
 * The node leaves the cluster: every other live member forgets it (one following it refuses: it is leaving too),
 * its node IDs leave the record, and it forgets the cluster (CLUSTER RESET HARD: back by a scale-up, its pod is a
 * fresh node under a new ID, which the members do not refuse for a minute as they refuse a node they forgot, and it
 * joins only when asked; Redis refuses to reset a master that still holds keys).
 */
export async function leaveCluster(c: Config, kube: Kube, me: ClusterNode, pods: PodView[]): Promise<void> {
  const o = probeOptions(c);
  // Terminating ones too: a master leaving beside it whose drain fails stays in the cluster with its volume.
  const others = pods.filter((p) => p.ip && p.phase === 'Running' && p.name !== c.podName);
  await Promise.all(
    others.map((p) =>
      withRedis(podAddress(c, p), o, (r) => r.call('CLUSTER', 'FORGET', me.id)).catch((e: Error) =>
        log.info(`scale-in: ${p.name} did not forget this node: ${e.message}`),
      ),
    ),
  );
  await recordNodeIds(c, kube, { [c.podName]: null }).catch((e: Error) =>
    log.warn(`scale-in: the Lease still records this pod's node ID: ${e.message}`),
  );
  // RESET empties a replica in memory only (and refuses a master that holds keys): FLUSHALL, on the node it has
  // just emptied, writes that to the AOF, or the keys would be back after a restart.
  await withRedis(localRedis(c), o, async (r) => {
    await r.call('CLUSTER', 'RESET', 'HARD');
    await r.call('FLUSHALL');
  }).catch((e: Error) => log.warn(`scale-in: CLUSTER RESET HARD: ${e.message}`));
  log.info(`scale-in: this node left the cluster (${others.length} members asked to forget it)`);
}
