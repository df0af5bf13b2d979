// IPv6-only pods (each in its own network namespace with a ULA address and no IPv4 but loopback): the launchers,
// Redis, Sentinel, promote's arguments and the kubelet's HTTP probes all work over IPv6. Boot, failover with
// relabel, and the old master's return with a new address; also the HTTP endpoints answering on every address
// when LISTEN_ADDRESS is not set (as in the manifests). Dual-stack pods (IPv6 first, IPv4 too, as status.podIPs
// lists them): everything is announced in the primary family only, and Redis and the probes answer on both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster, watchMasterLabels } from '../support/cluster.ts';
import { Network } from '../support/netns.ts';
import { httpProbe } from '../support/probes.ts';
import { waitFor } from '../support/wait.ts';
import { ServiceWriter } from '../support/writer.ts';
import { ask } from '../support/redis.ts';

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

test('dual-stack pods: announced in the primary family only; Redis and probes answer on both', { skip }, async (t) => {
  const network = Network.create(t, { ipv6: true, dualStack: true });
  // As the manifests run it: no LISTEN_ADDRESS, so Redis, Sentinel and the HTTP server take every address.
  const { c } = await testCluster(t, 'dual-stack', { network, env: { LISTEN_ADDRESS: '' } });
  await c.startAll();
  const master = await c.settled('boot on dual stack', 60_000);
  const primary = new Set(c.ordinals.map((i) => c.pod(i).ip));
  for (const i of c.ordinals) {
    const ips = c.pod(i).host!.ips;
    assert.equal(ips.length, 2);
    assert.deepEqual(
      c.api.getObject('pods', c.ns, c.pod(i).name)?.status.podIPs.map((p: { ip: string }) => p.ip),
      ips,
      'status.podIPs lists both, the primary first',
    );
    for (const a of ips) {
      assert.equal(await ask(a, 6379, 'PING'), 'PONG', `Redis answers on ${a}`);
      const r = await httpProbe(a, 8080, '/healthz', 2000);
      assert.ok(r.ok, `the probe answers on ${a}: ${r.detail}`);
    }
  }
  const known = async () => {
    const seen: string[] = [];
    for (const i of c.ordinals) {
      for (const what of ['REPLICAS', 'SENTINELS']) {
        const rows = (await ask(c.pod(i).ip, 26379, 'SENTINEL', what, 'mymaster')) as string[][] | undefined;
        for (const row of rows ?? []) seen.push(row[row.indexOf('ip') + 1]);
      }
      const m = (await ask(c.pod(i).ip, 26379, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as
        string[] | undefined;
      if (m) seen.push(m[0]);
    }
    return seen;
  };
  const other = (seen: string[]) => seen.filter((a) => !primary.has(a));
  await waitFor('every Sentinel knows every peer and replica', async () => (await known()).length === 3 * 5, 30_000);
  assert.deepEqual(other(await known()), [], 'only primary-family addresses announced');
  await c.killPod(ord(master));
  const next = await c.relabelledFrom(master, 30_000, 'promote relabelled another pod');
  assert.ok(primary.has(c.pod(ord(next)).ip));
  assert.deepEqual(other(await known()), [], 'after the failover too');
});

test('without LISTEN_ADDRESS the probes and metrics answer on IPv6 and on IPv4 (dual stack)', async (t) => {
  // As the image runs it: no LISTEN_ADDRESS, so the HTTP server takes every address.
  const { serveHttp } = await import('../../src/runtime/http.ts');
  const { createRedisMetrics } = await import('../../src/runtime/metrics.ts');
  const ok = () => Promise.resolve({ ok: true, reason: 'ok' });
  const server = await serveHttp(undefined, 0, { liveness: ok, readiness: ok }, createRedisMetrics());
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  for (const host of ['::1', '127.0.0.1']) {
    const r = await httpProbe(host, port, '/healthz', 2000);
    assert.ok(r.ok, `${host}: ${r.detail}`);
  }
});
