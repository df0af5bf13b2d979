// `launcher switchover --to <replica-pod>` in Redis Cluster mode: a planned handover of one shard. The replica
// named takes its master's slots through the same step as the SIGTERM handover (failOverTo: CLUSTER FAILOVER, the
// master's writers paused until the replica has everything). Exit 0 done, 1 failed (Redis gave the slots back to
// the master), 2 refused (nothing done).
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, type Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { currentPods } from '../kube/pods.ts';
import { isLive } from '../model.ts';
import { probeOptions, withRedis } from '../redis/client.ts';
import { parseInfo } from '../redis/replies.ts';
import { failOverTo } from './failover.ts';
import { nodeState, podAddress } from './observe.ts';
import { clusterHandover, replicaOffsets } from './rules/handover.ts';
import { slotCount } from './rules/nodes.ts';

/** How long --wait waits for the labels to follow (each pod's supervisor relabels itself). */
const LABELS_MS = 30_000;

export async function clusterSwitchover(
  c: Config,
  kube: Kube,
  opts: { to?: string; wait: boolean },
  out: (s: string) => void,
): Promise<number> {
  if (!opts.to) {
    throw new ConfigError(
      "in cluster mode switchover needs --to <replica-pod>: the replica to take its master's slots",
    );
  }
  const pods = (await currentPods(kube, c.podSelector)).filter(isLive);
  const target = pods.find((p) => p.name === opts.to);
  if (!target) throw new ConfigError(`pod ${JSON.stringify(opts.to)} is not a live pod of ${c.podSelector}`);
  const T = podAddress(c, target);
  const t = await nodeState(c, T);
  const me = t?.nodes.find((n) => n.flags.includes('myself'));
  if (!t || !me) {
    out(`switchover refused: ${target.name}'s Redis does not answer`);
    return 2;
  }
  const masterId = me.masterId;
  if (!masterId) {
    out(`switchover refused: ${target.name} is not a replica (it is a master already)`);
    return 2;
  }
  const masterPod = pods.find((p) => {
    const a = podAddress(c, p);
    return t.nodes.some((n) => n.id === masterId && n.host === a.host && n.port === a.port);
  });
  if (!masterPod) {
    out(`switchover refused: no live pod runs ${target.name}'s master (${masterId.slice(0, 8)})`);
    return 2;
  }
  const M = podAddress(c, masterPod);
  const m = await nodeState(c, M);
  const info = await withRedis(M, probeOptions(c), (r) => r.call('INFO', 'replication'))
    .then((i) => parseInfo(String(i)))
    .catch(() => ({}));
  const h = clusterHandover(m, replicaOffsets(info), [], me.id);
  if (h.kind === 'skip') {
    out(`switchover refused: ${masterPod.name}: ${h.reason}`);
    return 2;
  }
  const slots = slotCount(m?.nodes.find((n) => n.flags.includes('myself')) ?? me);
  out(`asking ${target.name} to take ${slots} slots over from ${masterPod.name} (CLUSTER FAILOVER)`);
  const t0 = Date.now();
  const r = await failOverTo(c, T, t0 + 10_000);
  if (!r.ok) {
    out(`switchover failed: ${r.why}; ${masterPod.name} keeps its slots and takes writes again`);
    return 1;
  }
  out(`${target.name} is the master of those slots after ${Date.now() - t0} ms`);
  if (!opts.wait) return 0;
  for (const end = Date.now() + LABELS_MS; Date.now() < end; await sleep(200)) {
    const now = await currentPods(kube, c.podSelector).catch(() => []);
    const label = (name: string) => now.find((p) => p.name === name)?.roleLabel;
    if (label(target.name) === 'master' && label(masterPod.name) === 'slave') {
      out(`labels follow: ${target.name} master, ${masterPod.name} slave`);
      return 0;
    }
  }
  out(`switchover done, but the labels did not follow within ${LABELS_MS / 1000} s`);
  return 1;
}
