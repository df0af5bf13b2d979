// SIGTERM on a cluster node whose pod leaves by a scale-down (its StatefulSet no longer keeps its ordinal: a plain
// `kubectl scale`, with no remove-shard first). A master serving slots hands them to a replica that stays, or else
// drains them to the masters that stay (redis-cli --cluster rebalance); either under the admin Lease, one scaling
// operation at a time. A replica leaves only while its master keeps the data (rules/scaling.ts). Then the node
// leaves the cluster (every member forgets it, and it forgets the cluster), as remove-shard's del-node does. A
// master that cannot do its part goes with its slots: a Warning Event, and `status` says to scale back.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { emitEvent } from '../kube/events.ts';
import { statefulSetOrdinals } from '../kube/statefulsets.ts';
import { addr, type PodView } from '../model.ts';
import { localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { parseInfo } from '../redis/replies.ts';
import type { HandoverResult } from '../runtime/last-handover.ts';
import { log } from '../runtime/log.ts';
import { withAdminLock } from './admin-lock.ts';
import { failOverTo } from './failover.ts';
import { recordNodeIds } from './lease.ts';
import { nodeState, podAddress } from './observe.ts';
import { moveSlots } from './redis-cli.ts';
import { clusterHandover, replicaOffsets } from './rules/handover.ts';
import { slotCount, slotText, type ClusterNode } from './rules/nodes.ts';
import {
  drainWeights,
  leaveProblem,
  leavesByScaleIn,
  replicaLeaving,
  scaleInStep,
  type KeptOrdinals,
} from './rules/scaling.ts';

type Result = (result: HandoverResult, why: string) => void;

/** The ordinals this pod's StatefulSet keeps (undefined: no StatefulSet, or it cannot be read). */
export async function keptOrdinalsOf(kube: Kube, self: PodView | undefined): Promise<KeptOrdinals | undefined> {
  return self?.owner ? statefulSetOrdinals(kube, self.owner).catch(() => undefined) : undefined;
}

/** `host:port` of the pods that go: terminating, or (with `kept`) outside the ordinals the StatefulSet keeps. */
export const goingAddresses = (c: Config, pods: PodView[], kept: KeptOrdinals | undefined) =>
  pods
    .filter((p) => p.name !== c.podName && (p.terminating || leavesByScaleIn(p.ordinal, kept)))
    .map((p) => addr(podAddress(c, p)));

/** This pod leaves by a scale-down: its part, within `deadline`; it leaves the cluster only when that is done. */
export async function scaleIn(
  c: Config,
  kube: Kube,
  pods: PodView[],
  kept: KeptOrdinals,
  deadline: number,
  result: Result,
): Promise<void> {
  const going = goingAddresses(c, pods, kept);
  const s = await nodeState(c, localRedis(c));
  const me = s?.nodes.find((n) => n.flags.includes('myself'));
  if (!s || !me) return log.warn('scale-in: Redis does not answer: this node does not leave the cluster');
  const warn = (reason: string, why: string) => {
    log.warn(why);
    return Promise.race([
      emitEvent(kube, { name: c.podName }, 'Warning', reason, why),
      sleep(Math.max(1, deadline - Date.now()), undefined, { ref: false }),
    ]);
  };
  if (!me.flags.includes('master')) {
    const r = await replicaPart(c, me, going, deadline);
    if (r.kind !== 'leave') {
      return void (await warn(
        'ScaleInNotLeft',
        `leaving by a scale-down, this replica keeps its data and its place in the cluster: ${r.reason}`,
      ));
    }
    log.info(`scale-in: this replica leaves: ${r.reason}`);
    return leaveCluster(c, kube, pods);
  }
  const t0 = Date.now();
  const locked = await withAdminLock(c, kube, Math.max(0, deadline - Date.now()), () =>
    masterPart(c, going, deadline),
  ).catch((e: unknown) => ({ locked: true as const, value: { ok: false, why: (e as Error).message } }));
  const part = locked.locked ? locked.value : { ok: false, why: `the Lease ${locked.lock} stayed held` };
  if (!part.ok) {
    const volume = kept.scaledVolumesDeleted
      ? 'the StatefulSet deletes the volumes of pods a scale-down removes (whenScaled: Delete): scale back now'
      : 'its volume keeps them';
    const why = `leaving by a scale-down, a master serving ${slotCount(me)} slots: ${part.why}; ${volume}`;
    result('failed', why);
    return void (await warn('ScaleInNotDrained', why));
  }
  const what = `leaving by a scale-down: ${part.why} (${Date.now() - t0} ms)`;
  log.info(what);
  result('done', what);
  void emitEvent(kube, { name: c.podName }, 'Normal', 'ScaleInDrained', what);
  return leaveCluster(c, kube, pods);
}

/** A replica: leaves once its master keeps the data (polled until the deadline while that master drains). */
async function replicaPart(c: Config, me: ClusterNode, going: string[], deadline: number) {
  for (;;) {
    const s = await nodeState(c, localRedis(c));
    const info = await withRedis(localRedis(c), probeOptions(c), (r) => r.call('INFO', 'replication'))
      .then((x) => parseInfo(String(x)))
      .catch(() => ({}) as Record<string, string>);
    const now = s?.nodes.find((n) => n.flags.includes('myself')) ?? me;
    const r = replicaLeaving(now, s?.nodes ?? [], going, info.master_link_status === 'up');
    if (r.kind === 'leave' && leaveProblem(s)) return { kind: 'keep' as const, reason: leaveProblem(s) ?? '' };
    if (r.kind !== 'wait') return r;
    if (Date.now() + 250 >= deadline) return { kind: 'keep' as const, reason: `${r.reason} when its time ran out` };
    await sleep(250);
  }
}

/** A master, holding the admin Lease: hand over to a replica that stays, or drain; state read again under it. */
async function masterPart(c: Config, going: string[], deadline: number): Promise<{ ok: boolean; why: string }> {
  const s = await nodeState(c, localRedis(c));
  const me = s?.nodes.find((n) => n.flags.includes('myself'));
  if (!s || !me) return { ok: false, why: 'Redis does not answer' };
  const info = await withRedis(localRedis(c), probeOptions(c), (r) => r.call('INFO', 'replication'))
    .then((x) => parseInfo(String(x)))
    .catch(() => ({}) as Record<string, string>);
  const h = clusterHandover(s, replicaOffsets(info), going);
  const step = scaleInStep(me, h.kind === 'failover');
  let why = 'it served no slot';
  if (step === 'handover' && h.kind === 'failover') {
    const r = await failOverTo(c, { host: h.to.host, port: h.to.port }, deadline);
    if (!r.ok) return { ok: false, why: r.why };
    why = `its slots handed over to its replica ${h.to.host}:${h.to.port}, which stays`;
  } else if (step === 'drain') {
    const weights = drainWeights(s.nodes, [...going, `${me.host}:${me.port}`]);
    if (!weights) return { ok: false, why: 'no master stays to take its slots' };
    const lines: string[] = [];
    const stop = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    const entry = addr(localRedis(c));
    try {
      await moveSlots(c, entry, ['rebalance', entry, '--cluster-weight', ...weights], (l) => lines.push(l), stop);
    } catch (e) {
      for (const l of lines.slice(-5)) log.warn(`redis-cli:${l}`);
      const cause = stop.aborted ? 'the time ran out' : (e as Error).message;
      return { ok: false, why: `slots ${slotText(me)} could not be moved to the masters that stay: ${cause}` };
    }
    why = `its ${slotCount(me)} slots moved to the masters that stay`;
  }
  // Checked, not assumed: a node leaves only without slots, open slots or (as a master) keys.
  const problem = leaveProblem(await nodeState(c, localRedis(c)));
  return problem ? { ok: false, why: `${why}, but ${problem}` } : { ok: true, why };
}

/**
 * The node leaves the cluster: every other running member forgets it (terminating ones too; one following it
 * refuses: it is leaving too), its node IDs leave the record, and it forgets the cluster (CLUSTER RESET HARD: back
 * by a scale-up, its pod is a fresh node under a new ID, which the members do not refuse for a minute as they
 * refuse a node they forgot, and it joins only when asked). RESET empties a replica in memory only: FLUSHALL, on
 * the node it has just emptied, writes that to the AOF too, or the keys would be back after a restart.
 */
export async function leaveCluster(c: Config, kube: Kube, pods: PodView[]): Promise<void> {
  const o = probeOptions(c);
  const s = await nodeState(c, localRedis(c));
  const id = s?.nodes.find((n) => n.flags.includes('myself'))?.id;
  const problem = leaveProblem(s);
  if (!id || problem) return log.warn(`scale-in: this node does not leave the cluster: ${problem}`);
  const others = pods.filter((p) => p.ip && p.phase === 'Running' && p.name !== c.podName);
  await Promise.all(
    others.map((p) =>
      withRedis(podAddress(c, p), o, (r) => r.call('CLUSTER', 'FORGET', id)).catch((e: Error) =>
        log.info(`scale-in: ${p.name} did not forget this node: ${e.message}`),
      ),
    ),
  );
  await recordNodeIds(c, kube, { [c.podName]: null }).catch((e: Error) =>
    log.warn(`scale-in: the Lease still records this pod's node ID: ${e.message}`),
  );
  await withRedis(localRedis(c), o, async (r) => {
    await r.call('CLUSTER', 'RESET', 'HARD');
    await r.call('FLUSHALL');
  }).catch((e: Error) => log.warn(`scale-in: CLUSTER RESET HARD: ${e.message}`));
  log.info(`scale-in: this node left the cluster (${others.length} members asked to forget it)`);
}
