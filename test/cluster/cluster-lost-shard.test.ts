// Redis Cluster mode with a shard lost for good (3 masters, no replica; one killed): Redis stops serving
// (cluster-require-full-coverage yes, its default), but the other nodes stay Ready, so that the Service keeps its
// endpoints, the PodDisruptionBudget is not used up and a rollout that brings the shard back is not stalled;
// `launcher probe readiness` says why in one line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { healthy } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';

test('cluster mode: one shard lost for good, the other nodes stay Ready and say why', async (t) => {
  const { c } = await testCluster(t, 'cluster-lost', {
    containers: 'redis',
    env: {
      CLUSTER_MODE: 'true',
      CLUSTER_MASTERS: '3',
      CLUSTER_REPLICAS_PER_MASTER: '0',
      CLUSTER_NODE_TIMEOUT_MS: '1000',
    },
  });
  await c.startAll([0, 1, 2]);
  await healthy(c, 'the cluster formed', 30_000, 3);
  await c.killPod(2);
  await waitFor(
    'the cluster fails redis-2 (cluster_state:fail on redis-0)',
    async () => /cluster_state:fail/.test(String(await ask(c.pod(0).ip, 6379, 'CLUSTER', 'INFO'))),
    15_000,
  );
  const r = await waitFor(
    'redis-0 Ready although the cluster is down',
    async () => {
      const p = await c.launcherCommand(0, ['probe', 'readiness']);
      if (p.exitCode !== 0) throw new Error(p.stdout + p.stderr);
      return p;
    },
    15_000,
    500,
  );
  assert.match(
    r.stdout.trim(),
    /^readiness: ok: a master serving \d+ slots; cluster_state:fail only because the shard of [\d.]+:6379 is lost/,
  );
});
