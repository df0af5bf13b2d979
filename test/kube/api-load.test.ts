// What a settled set asks of the Kubernetes API: nothing. The supervisors and the readiness probes read the pods
// and the master of record from watches; requests happen only when something changes. With the Role of the
// manifests (watch granted where it is used) and the kubelet's probes at twice their real rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';

test('a settled set makes no API request apart from its watches, and a failover is followed at once', async (t) => {
  const { api, c } = await testCluster(t, 'api-load', { probes: { timeScale: 0.5 }, rbacFromManifests: true });
  await c.startAll();
  const master = await c.settled('boot', 60_000);
  const requests: string[] = [];
  const listen = (r: { method: string; url: string }) => {
    if (!/[?&]watch=(true|1)/.test(r.url)) requests.push(`${r.method} ${r.url}`);
  };
  api.requestListeners.add(listen);
  t.after(() => api.requestListeners.delete(listen));
  // Reconcile every second (the tests' setting), readiness every second: 8 s would be ~100 requests by polling.
  // This window is the thing measured, not a wait for a state.
  const until = Date.now() + 8000;
  await waitFor('the measurement window', () => (Date.now() >= until ? true : undefined), 10_000);
  assert.deepEqual(requests, [], 'no request in a steady state');
  assert.deepEqual(c.labelledMasters(), [master]);

  // Labels still follow the truth: the master pod killed, a new one labelled, the Service's view correct.
  await c.killPod(Number(master.split('-').pop()));
  const next = await waitFor(
    'a new master labelled',
    () => {
      const m = c.labelledMasters();
      return m.length === 1 && m[0] !== master ? m[0] : undefined;
    },
    30_000,
  );
  assert.ok(requests.length > 0, 'changes are written');
  assert.notEqual(next, master);
});
