// IPv6-only pods (each in its own network namespace with a ULA address and no IPv4 but loopback): the launchers,
// Redis, Sentinel, promote's arguments and the kubelet's HTTP probes all work over IPv6. Boot, failover with
// relabel, and the old master's return with a new address; also the HTTP endpoints answering on every address
// when LISTEN_ADDRESS is not set (as in the manifests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster, watchMasterLabels } from './support/cluster.ts';
import { Network } from './support/netns.ts';
import { httpProbe } from './support/probes.ts';
import { waitFor } from './support/wait.ts';
import { ServiceWriter } from './support/writer.ts';

const skip = Network.unavailable();
const ord = (name: string) => Number(name.split('-').pop());

test('IPv6-only pods: boot, failover and relabel, the old master back with a new address', { skip }, async (t) => {
  const network = Network.create(t, { ipv6: true });
  const { c } = await testCluster(t, 'ipv6', { network, probes: { timeScale: 0.5 } });
  const labels = watchMasterLabels(c);
  t.after(labels.stop);
  await c.startAll();
  const master = await c.settled('boot over IPv6', 60_000);
  assert.match(c.pod(ord(master)).ip, /^fd[0-9a-f]{2}:/, 'the pods have IPv6 addresses only');
  const writer = new ServiceWriter(c);
  writer.start();
  t.after(() => writer.stop());
  await waitFor('writes confirmed', () => writer.acked.length > 20, 20_000);

  await c.killPod(ord(master));
  const next = await c.relabelledFrom(
    master,
    30_000,
    'promote relabelled another pod (Sentinel passed it IPv6 addresses)',
  );
  await c.recreatePod(ord(master), 'kill');
  assert.equal(await c.converged('the old master back as a replica', 60_000), next);
  await Promise.all(c.ordinals.map((i) => c.waitReady(i, 60_000)));
  await writer.stop();
  await writer.assertAllPresent();
  assert.deepEqual(labels.doubles, []);
});

test('without LISTEN_ADDRESS the probes and metrics answer on IPv6 and on IPv4 (dual stack)', async (t) => {
  // As the image runs it: no LISTEN_ADDRESS, so the HTTP server takes every address.
  const { serveHttp } = await import('../src/http.ts');
  const { createRedisMetrics } = await import('../src/metrics.ts');
  const ok = () => Promise.resolve({ ok: true, reason: 'ok' });
  const server = await serveHttp(undefined, 0, { liveness: ok, readiness: ok }, createRedisMetrics());
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  for (const host of ['::1', '127.0.0.1']) {
    const r = await httpProbe(host, port, '/healthz', 2000);
    assert.ok(r.ok, `${host}: ${r.detail}`);
  }
});
