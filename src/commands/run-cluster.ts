// `launcher run --cluster`: Redis Cluster mode. Writes the cluster redis.conf (nodes.conf on the data volume, so a
// node keeps its ID, slots and role), runs and supervises redis-server with the same signal, probe and metrics
// duties as Sentinel mode, and starts the cluster supervisor (src/cluster/supervisor.ts). Redis fails a master
// over to its replica by itself; there is no Sentinel and no client-reconfig-script.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/types.ts';
import { bootstrapLease } from '../cluster/lease.ts';
import { nodesConfMaster } from '../cluster/rules/nodes.ts';
import { ClusterSupervisor } from '../cluster/supervisor.ts';
import { writeConfigFile } from '../runtime/files.ts';
import { serveHttp } from '../runtime/http.ts';
import type { Kube } from '../kube/api.ts';
import { EVENTS_AT_EXIT_MS, eventsSent } from '../kube/events.ts';
import { startWatches } from '../kube/watch.ts';
import { reportPreviousHandover } from '../runtime/last-handover.ts';
import { log } from '../runtime/log.ts';
import { TICK_MS } from '../runtime/loop.ts';
import { createRedisMetrics } from '../runtime/metrics.ts';
import { renderClusterConf } from '../redis/conf.ts';
import { supervise } from '../runtime/child.ts';
import { dataDirHasData } from '../redis/data-dir.ts';
import { mayFollow } from '../redis/follow-guard.ts';

export async function runCluster(c: Config, cl: NonNullable<Config['cluster']>, kube: Kube): Promise<number> {
  const hasData = await dataDirHasData(c.dataDir);
  log.info(
    `${c.podName} (${c.podHost}) starting in cluster mode (${cl.masters} masters x ${1 + cl.replicasPerMaster}); ` +
      `data dir ${c.dataDir} ${hasData ? 'has data' : 'is empty'}`,
  );
  // A replica syncs from the master its nodes.conf names as soon as Redis starts: not from one whose RDB it could
  // not load (it would empty its data first). Exit 1, data untouched. A master no longer at that address: no check.
  const master = nodesConfMaster(await readFile(join(c.dataDir, 'nodes.conf'), 'utf8').catch(() => ''));
  if (master && !(await mayFollow(c, kube, master))) return 1;
  const conf = join(c.confDir, 'redis.conf');
  await writeConfigFile(conf, renderClusterConf(c, cl));
  // The pods, and the bootstrap Lease (its holder, whether the cluster was formed), from watches.
  const unwatch = startWatches(
    kube,
    { ...c, sentinelSidecar: true, masterRecord: bootstrapLease(c) },
    { record: true },
  );
  const metrics = createRedisMetrics();
  await reportPreviousHandover(c.dataDir, metrics);
  const sup = new ClusterSupervisor(c, cl, kube, metrics);
  const child = supervise(c.redisServerBin, [conf], c.stopTimeoutMs, () => sup.handover(), c.handoverTimeoutMs);
  if (c.httpPort) {
    await serveHttp(
      c.listenAddress,
      c.httpPort,
      { liveness: () => sup.liveness(), readiness: () => sup.readiness() },
      metrics,
    );
  }
  sup.start(TICK_MS);
  const code = await child.done;
  await eventsSent(EVENTS_AT_EXIT_MS);
  sup.stop();
  unwatch();
  return code;
}
