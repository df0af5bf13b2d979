// SIGTERM on a cluster node: a master serving slots asks its most up-to-date replica to take over (CLUSTER
// FAILOVER pauses this master's writers until the replica has everything) and waits until it is master, then
// labels this pod slave; all within HANDOVER_TIMEOUT_MS. A pod leaving by a scale-down does its part there
// (scale-in.ts): the slots stay in the cluster, then it leaves it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { emitEvent } from '../kube/events.ts';
import { currentPods, setRoleLabel } from '../kube/pods.ts';
import type { Address } from '../model.ts';
import { localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { parseInfo } from '../redis/replies.ts';
import { recordHandover, type HandoverResult } from '../runtime/last-handover.ts';
import { log } from '../runtime/log.ts';
import type { RedisMetrics } from '../runtime/metrics.ts';
import { nodeState } from './observe.ts';
import { clusterHandover, replicaOffsets } from './rules/handover.ts';
import { slotCount } from './rules/nodes.ts';
import { leavesByScaleIn } from './rules/scaling.ts';
import { goingAddresses, keptOrdinalsOf, scaleIn } from './scale-in.ts';
import { failOverTo } from './failover.ts';

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
  const pods = await currentPods(kube, c.podSelector).catch(() => []);
  const self = pods.find((p) => p.name === c.podName);
  // The StatefulSet read beside Redis's, and waited for 1 s at most: an API that does not answer does not delay
  // a handover (the pod is then taken as staying).
  const [kept, s, info] = await Promise.all([
    Promise.race([keptOrdinalsOf(kube, self), sleep(1000, undefined, { ref: false })]),
    nodeState(c, local),
    withRedis(local, o(), (r) => r.call('INFO', 'replication'))
      .then((i) => parseInfo(String(i)))
      .catch(() => ({})),
  ]);
  // Leaving by a scale-down (the StatefulSet no longer keeps this ordinal): the slots stay in the cluster.
  if (kept && leavesByScaleIn(self?.ordinal, kept)) {
    return scaleIn(c, kube, pods, kept, deadline, handoverResult);
  }
  // A replica whose pod is going too (a drain, a deletion of several pods, a scale-down) is no heir.
  const h = clusterHandover(s, replicaOffsets(info), goingAddresses(c, pods, kept));
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
}
