// A replica's pod deleted and not yet recreated (the StatefulSet controller is about to): its ordinal is below
// spec.replicas, so it is coming back. Sentinel hygiene must not SENTINEL RESET the set meanwhile (a reset forgets
// the known replicas until the master's next INFO, which is what it never does while anything is moving); once the
// pod is back with a new IP and settled, the old IP is stale and may be dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptLog, testCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';

test('a deleted pod not yet recreated holds Sentinel hygiene back: no reset until it is back', async (t) => {
  const kept = keptLog();
  const { c } = await testCluster(t, 'recreated-pod', { log: kept.log });
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const gone = c.ordinals.find((i) => c.pod(i).name !== master)!;
  await c.killPod(gone);
  c.api.deleteObject('pods', c.ns, c.pod(gone).name);
  const resets = () => kept.lines.filter((l) => l.includes('SENTINEL RESET'));
  // Three hygiene passes (every 2 s here) with the pod absent: every Sentinel has looked at least twice.
  const until = Date.now() + 7000;
  await waitFor('three hygiene passes', () => (Date.now() >= until ? true : undefined), 15_000);
  assert.deepEqual(resets(), [], 'no reset while the pod is being recreated');
  await c.startPod(gone, { newIp: true });
  assert.equal(await c.converged('the pod is back', 60_000), master);
});
