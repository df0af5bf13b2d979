// Redis Cluster mode's bootstrap Lease across installs: a Lease left by a pod that no longer exists (it won the
// race, then was scaled away) is taken over and the cluster forms, its plan stored on the Lease, the Lease owned by
// the StatefulSet (deleting the StatefulSet deletes it); a reinstall with fresh volumes while the Lease says
// "formed" waits and says the exact kubectl, and forms a new cluster once the Lease is gone.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { healthy } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';

const PODS = [0, 1, 2];
const LEASE = 'mymaster-cluster';

test('cluster mode: a Lease whose holder is gone is taken over; a reinstall is told how to start over', async (t) => {
  const { api, c } = await testCluster(t, 'cluster-lease', {
    containers: 'redis',
    env: { CLUSTER_MODE: 'true', CLUSTER_MASTERS: '3', CLUSTER_REPLICAS_PER_MASTER: '0' },
  });
  api.put('leases', {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: LEASE, namespace: c.ns },
    spec: { holderIdentity: 'redis-9', leaseDurationSeconds: 30, renewTime: new Date().toISOString() },
  });
  await c.startAll(PODS);
  const first = await healthy(c, 'the cluster formed by the pod that took the Lease over', 30_000, 3);
  // Recorded on the Lease once every node says the cluster is whole (a moment after it is).
  const lease = await waitFor(
    'the Lease records the cluster formed',
    () => {
      const l = api.getObject('leases', c.ns, LEASE);
      return l?.metadata?.annotations?.['redis-ha-launcher/cluster-formed'] ? l : undefined;
    },
    10_000,
  );
  assert.equal(lease.spec?.holderIdentity, 'redis-0');
  const plan = JSON.parse(lease.metadata?.annotations?.['redis-ha-launcher/cluster-plan'] ?? '{}');
  assert.deepEqual(
    plan.masters?.map((m: { pod: string }) => m.pod),
    ['redis-0', 'redis-1', 'redis-2'],
  );
  const taken = await waitFor(
    'a BootstrapTakenOver Event',
    () => api.listObjects('events', c.ns).find((e) => e.reason === 'BootstrapTakenOver'),
    10_000,
  );
  assert.equal(taken.involvedObject?.name, 'redis-0');

  // Reinstalled with fresh volumes, the Lease kept (here: the StatefulSet was not deleted): never formed twice,
  // and each pod says what to run.
  for (const i of PODS) {
    await c.killPod(i);
    await rm(join(c.pod(i).dir, 'data'), { recursive: true, force: true });
    api.deleteObject('pods', c.ns, c.pod(i).name);
  }
  for (const i of PODS) await c.startPod(i, { newIp: true });
  await waitFor(
    'launcher role names the kubectl that starts over',
    async () => {
      const r = await c.launcherRole(0);
      if (!new RegExp(`kubectl delete lease ${LEASE} -n ${c.ns}`).test(r.stdout)) throw new Error(r.stdout + r.stderr);
      return true;
    },
    30_000,
    500,
  );
  api.deleteObject('leases', c.ns, LEASE);
  const second = await healthy(c, 'a new cluster formed', 30_000, 3);
  // Created by a pod this time (the one taken over above was the test's): owned by the StatefulSet, so that
  // deleting the StatefulSet deletes it. (A take-over leaves the owner as it was: changing it needs delete.)
  const created = api.getObject('leases', c.ns, LEASE);
  assert.deepEqual(
    (created?.metadata?.ownerReferences as { kind: string; name: string }[] | undefined)?.map(
      (r) => `${r.kind}/${r.name}`,
    ),
    [`StatefulSet/${c.sts}`],
    'owned by the StatefulSet',
  );
  assert.ok(
    [...second.values()].every((id) => ![...first.values()].includes(id)),
    'new nodes, a new cluster',
  );
});
