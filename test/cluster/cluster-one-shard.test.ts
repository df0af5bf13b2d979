// Redis Cluster mode at its smallest: one master and no replica (CLUSTER_MASTERS=1, CLUSTER_REPLICAS_PER_MASTER=0),
// as people run it in development. It forms on its own; a SIGTERM finds no replica to hand the slots to, and the
// pod goes with a Warning Event that says so (kubectl describe shows why the shard was down).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { healthy } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';

test('cluster mode, one master, no replica: formed alone; a SIGTERM with no heir leaves a Warning Event', async (t) => {
  const { api, c } = await testCluster(t, 'cluster-one', {
    containers: 'redis',
    env: { CLUSTER_MODE: 'true', CLUSTER_MASTERS: '1', CLUSTER_REPLICAS_PER_MASTER: '0' },
  });
  await c.startAll([0]);
  await healthy(c, 'the cluster of one formed', 30_000, 1);
  const stopped = await c.stopPod(0);
  assert.equal(stopped.redis, 0, 'a clean stop');
  const e = await waitFor(
    'a HandoverSkipped Event',
    () => api.listObjects('events', c.ns).find((x) => x.reason === 'HandoverSkipped'),
    10_000,
  );
  assert.equal(e.type, 'Warning');
  assert.equal(e.involvedObject?.name, 'redis-0');
  assert.match(e.message, /^shutting down a master serving 16384 slots with no handover: no healthy replica/);
});
