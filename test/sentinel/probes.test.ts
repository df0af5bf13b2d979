// The manifests' own kubelet probes against the real launchers: a container that waits (here for a peer held
// Pending, which the first boot must wait for) is alive and not ready, and never killed for waiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';

test('while a peer is Pending, no container is killed by its liveness or startup probe', async (t) => {
  const { c } = await testCluster(t, 'probes', { probes: { timeScale: 0.2 } });
  await c.startAll([0, 1, 2], { pending: [2] });
  // Every container of the running pods waits (redis-2 has not reported its data): let the kubelet probe the
  // Sentinels past their liveness failure threshold (3) before looking at what it did.
  const liveness = (name: string) =>
    c.kubelet.probes.filter((r) => r.pod === name && r.container === 'sentinel' && r.probe === 'liveness');
  for (const name of ['redis-0', 'redis-1']) {
    await waitFor(`${name}/sentinel probed for liveness 5 times`, () => liveness(name).length >= 5, 30_000);
  }
  const kills = () => c.kubelet.kills.map((k) => `${k.pod}/${k.container} by ${k.reason}`);
  assert.deepEqual(kills(), [], 'a waiting container was killed');
  assert.ok(
    ['redis-0', 'redis-1'].every((n) => liveness(n).every((r) => r.ok)),
    'a waiting Sentinel answers its liveness probe',
  );
  assert.ok(!c.isReady(0) && !c.isReady(1), 'nobody is Ready while the set waits');
  await c.startPod(2);
  await Promise.all([0, 1, 2].map((i) => c.waitReady(i, 40_000)));
  await c.converged('converged once redis-2 runs', 30_000);
  assert.deepEqual(kills(), []);
});
