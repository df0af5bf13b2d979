// SIGTERM on a cluster node: a master serving slots asks its most up-to-date replica to take over (CLUSTER
// FAILOVER pauses this master's writers until the replica has everything) and waits until it is master, then
// labels this pod slave; all within HANDOVER_TIMEOUT_MS. A pod leaving by a scale-down drains its slots when no
// replica that stays can take them, then leaves the cluster (scale-in.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { emitEvent } from '../kube/events.ts';
import { currentPods, setRoleLabel } from '../kube/pods.ts';
import { addr, type Address } from '../model.ts';
import { localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { parseInfo } from '../redis/replies.ts';
import { recordHandover, type HandoverResult } from '../runtime/last-handover.ts';
import { log } from '../runtime/log.ts';
import type { RedisMetrics } from '../runtime/metrics.ts';
import { nodeState, podAddress } from './observe.ts';
import { clusterHandover, replicaOffsets } from './rules/handover.ts';
import { slotCount } from './rules/nodes.ts';
import { scaleInStep } from './rules/scaling.ts';
import { drainForScaleIn, leaveCluster, scaleInOf } from './scale-in.ts';

/** Redis's manual failover timeout (CLUSTER_MF_TIMEOUT, fixed in Redis 7.0). */
const MANUAL_FAILOVER_MS = 5000;

/**
 * SIGTERM: a master serving slots asks its most up-to-date replica to take over (CLUSTER FAILOVER, which pauses
 * this master's writers until the replica has everything) and waits until the replica is master, then labels
 * this pod slave. The whole step fits in HANDOVER_TIMEOUT_MS (supervise() cuts it off there too).
 */
export async function handOver(c: Config, kube: Kube, metrics: RedisMetrics): Promise<void> {
  const handoverResult = (result: HandoverResult, why: string) => recordHandover(metrics, c.dataDir, result, why);
  const t0 = Date.now();
  const deadline = t0 + c.handoverTimeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  const o = () => ({ ...probeOptions(c), timeoutMs: Math.min(c.probeTimeoutMs, left()) });
  const local = localRedis(c);
  const s = await nodeState(c, local);
  const info = await withRedis(local, o(), (r) => r.call('INFO', 'replication'))
    .then((i) => parseInfo(String(i)))
    .catch(() => ({}));
  // A replica whose pod is going too (a drain, a deletion of several pods) is no heir.
  const pods = await currentPods(kube, c.podSelector).catch(() => []);
  const going = pods.filter((p) => p.terminating && p.name !== c.podName).map((p) => podAddress(c, p));
  const h = clusterHandover(
    s,
    replicaOffsets(info),
    going.map((a) => `${a.host}:${a.port}`),
  );
  // Leaving by a scale-down (the StatefulSet no longer keeps this ordinal): the slots stay in the cluster.
  const kept = await scaleInOf(
    kube,
    pods.find((p) => p.name === c.podName),
  );
  const me = s?.nodes.find((n) => n.flags.includes('myself'));
  const step = kept && me ? scaleInStep(me, h.kind === 'failover') : undefined;
  if (kept && me && step === 'drain') {
    const d = await drainForScaleIn(c, kube, me, pods, kept, deadline);
    if (!d.ok) {
      const why = `leaving by a scale-down, a master serving ${slotCount(me)} slots: ${d.why}; its volume keeps them`;
      log.warn(why);
      handoverResult('failed', why);
      await Promise.race([
        emitEvent(kube, { name: c.podName }, 'Warning', 'ScaleInNotDrained', why),
        sleep(left(), undefined, { ref: false }),
      ]);
      return;
    }
    const what = `leaving by a scale-down: ${d.why}`;
    log.info(what);
    handoverResult('done', what);
    void emitEvent(kube, { name: c.podName }, 'Normal', 'ScaleInDrained', what);
    return leaveCluster(c, kube, me, pods);
  }
  if (kept && me && step === 'leave') return leaveCluster(c, kube, me, pods);
  if (h.kind === 'skip') {
    const me = s?.nodes.find((n) => n.flags.includes('myself'));
    if (me?.flags.includes('master')) {
      log.warn(`shutting down a master: no handover (${h.reason})`);
      handoverResult('skipped', h.reason);
      const slots = slotCount(me);
      // Awaited (within the handover's time): the process is about to exit, and this is why its shard goes down.
      if (slots) {
        const why = `shutting down a master serving ${slots} slots with no handover: ${h.reason}`;
        await Promise.race([
          emitEvent(kube, { name: c.podName }, 'Warning', 'HandoverSkipped', why),
          sleep(left(), undefined, { ref: false }),
        ]);
      }
    }
    return;
  }
  const to: Address = { host: h.to.host, port: h.to.port };
  const failed = (why: string, result: 'failed' | 'timeout') => {
    log.warn(`handover: ${why}; stopping anyway`);
    handoverResult(result, why);
    void emitEvent(kube, { name: c.podName }, 'Warning', 'HandoverFailed', why);
  };
  log.info(`handover: asking ${h.to.host}:${h.to.port} to take over (${h.reason})`);
  const r = await failOverTo(c, to, deadline);
  if (!r.ok) return failed(r.why, r.asked ? 'timeout' : 'failed');
  const took = Date.now() - t0;
  const what = `shutting down: slots handed over to ${h.to.host}:${h.to.port} (${h.to.id}) in ${took} ms`;
  log.info(`handover: ${h.to.host}:${h.to.port} is master after ${took} ms; stopping Redis`);
  handoverResult('done', what);
  void emitEvent(kube, { name: c.podName }, 'Normal', 'HandedOver', what);
  // No longer the master: the label says so before the pod goes (the new master labels itself).
  await setRoleLabel(kube, c.podName, 'slave').catch(() => undefined);
  if (kept && me) await leaveCluster(c, kube, me, pods);
}

/**
 * The one way a cluster master's slots are handed over on purpose (SIGTERM, `launcher switchover`): CLUSTER
 * FAILOVER on its replica `to` (not FORCE: the master pauses its writers until the replica has everything it
 * acknowledged, then the replica takes over), then waiting until `to` says it is master. Redis gives a manual
 * failover 5 s (CLUSTER_MF_TIMEOUT), then the replica gives up and the master takes writes again: no longer than
 * that, nor past `deadline`.
 */
export async function failOverTo(
  c: Config,
  to: Address,
  deadline: number,
): Promise<{ ok: true } | { ok: false; asked: boolean; why: string }> {
  const t0 = Date.now();
  const left = () => Math.max(1, deadline - Date.now());
  const o = () => ({ ...probeOptions(c), timeoutMs: Math.min(c.probeTimeoutMs, left()) });
  try {
    await withRedis(to, o(), (r) => r.call('CLUSTER', 'FAILOVER'));
  } catch (e) {
    return { ok: false, asked: false, why: `CLUSTER FAILOVER on ${addr(to)} failed: ${(e as Error).message}` };
  }
  const until = Math.min(deadline, Date.now() + MANUAL_FAILOVER_MS + 500);
  while (Date.now() < until) {
    const now = await nodeState(c, to);
    if (now?.nodes.find((n) => n.flags.includes('myself'))?.flags.includes('master')) return { ok: true };
    await sleep(Math.min(50, left()));
  }
  return { ok: false, asked: true, why: `${addr(to)} did not take over within ${Date.now() - t0} ms` };
}
