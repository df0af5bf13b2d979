// `launcher run` for Redis at its edges: every path to master goes through a compare-and-swap on the master of
// record, and a Redis that never comes up leaves no label or record behind and ends the launcher promptly.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/parse.ts';
import { connectKube } from '../../src/kube/api.ts';
import { settle } from '../../src/sentinel/redis-container/settle.ts';
import { LocalCluster } from '../support/cluster.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { loopbackAddress } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

let api: KubeStandin;
let root: string;
/** Called before the stand-in routes each request: lets a test change the world between two calls. */
let beforeRequest: (r: { method: string; url: string }) => void = () => {};

before(async () => {
  api = await new KubeStandin({ onRequest: (r) => beforeRequest(r) }).start();
  root = await mkdtemp(join(tmpdir(), 'rhl-run-redis-'));
});
after(async () => {
  beforeRequest = () => {};
  await stopAll();
  await api.close();
  await rm(root, { recursive: true, force: true });
});

const lease = (ns: string, holder: string) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'mymaster-master', namespace: ns },
  spec: { holderIdentity: holder },
});

test('the master of record decides master only by compare-and-swap: a record moved meanwhile wins', async () => {
  const ns = 'cas';
  api.ensureNamespace(ns);
  const ips = [loopbackAddress(), loopbackAddress()];
  for (const i of [0, 1]) {
    const p = statefulSetPod({ sts: 'redis', ordinal: i, namespace: ns, labels: { app: 'redis' } });
    p.metadata.annotations = { 'redis-ha-launcher/data': 'present' };
    api.put('pods', p);
    setPodState(api, ns, `redis-${i}`, { phase: 'Running', podIP: ips[i], ready: false });
  }
  api.put('statefulsets', { metadata: { name: 'redis', namespace: ns }, spec: { replicas: 2 } });
  api.put('leases', lease(ns, 'redis-0'));
  // Between redis-0's observation (record = redis-0) and its claim, redis-1 takes the record (as promote would).
  let moved = false;
  beforeRequest = (r) => {
    if (!moved && r.method !== 'GET' && r.url.includes('/leases/mymaster-master')) {
      moved = true;
      const cur = api.getObject('leases', ns, 'mymaster-master')!;
      api.put('leases', { ...cur, spec: { ...cur.spec, holderIdentity: 'redis-1' } });
    }
  };
  process.env.KUBECONFIG = await api.writeKubeconfig(root, { namespace: ns, file: 'cas-kubeconfig' });
  const c = parseConfig({
    POD_NAME: 'redis-0',
    POD_NAMESPACE: ns,
    POD_IP: ips[0],
    LISTEN_ADDRESS: ips[0],
    REDIS_POD_SELECTOR: 'app=redis',
    LAUNCHER_WAIT_TIMEOUT_MS: '3000',
    PROBE_TIMEOUT_MS: '300',
  });
  try {
    const d = await settle(c, connectKube(ns), true);
    assert.ok(moved, 'the claim was attempted: the record was written through the Lease');
    assert.notEqual(d?.role, 'master', 'redis-0 must not start as master after losing the record');
    assert.equal(d?.role, 'replica');
    assert.equal(d.role === 'replica' ? d.masterPod : '', 'redis-1');
  } finally {
    beforeRequest = () => {};
  }
});

test('the StatefulSet cannot be read (403): a missing master of record is waited for, never replaced', async () => {
  const ns = 'sts403';
  api.ensureNamespace(ns);
  const ip = loopbackAddress();
  const p = statefulSetPod({ sts: 'redis', ordinal: 0, namespace: ns, labels: { app: 'redis' } });
  p.metadata.annotations = { 'redis-ha-launcher/data': 'present' };
  api.put('pods', p);
  setPodState(api, ns, 'redis-0', { phase: 'Running', podIP: ip, ready: false });
  api.put('statefulsets', { metadata: { name: 'redis', namespace: ns }, spec: { replicas: 3 } });
  // The master of record is redis-1, whose pod is being recreated (not in the API right now).
  api.put('leases', lease(ns, 'redis-1'));
  const rv = api.getObject('leases', ns, 'mymaster-master')?.metadata.resourceVersion;
  const denied = api.faults.add({
    method: 'GET',
    path: /\/apis\/apps\/v1\/namespaces\/sts403\/statefulsets\//,
    status: 403,
  });
  process.env.KUBECONFIG = await api.writeKubeconfig(root, { namespace: ns, file: 'sts403-kubeconfig' });
  const c = parseConfig({
    POD_NAME: 'redis-0',
    POD_NAMESPACE: ns,
    POD_IP: ip,
    LISTEN_ADDRESS: ip,
    REDIS_POD_SELECTOR: 'app=redis',
    LAUNCHER_WAIT_TIMEOUT_MS: '2500',
    PROBE_TIMEOUT_MS: '300',
  });
  try {
    const d = await settle(c, connectKube(ns), true);
    assert.ok(denied.hits >= 2, 'the StatefulSet was asked for, and refused, on every look');
    assert.equal(d, null, 'it waited (until the wait timeout) instead of deciding');
    assert.equal(api.getObject('leases', ns, 'mymaster-master')?.metadata.resourceVersion, rv, 'record untouched');
  } finally {
    denied.remove();
  }
});

test('a Redis that exits at start (bad extra config) ends the launcher with its code; no label', async () => {
  const ns = 'badconf';
  const bad = join(root, 'bad.conf');
  await writeFile(bad, 'this-is-not-a-directive yes\n');
  await mkdir(join(root, ns), { recursive: true });
  const c = await new LocalCluster({
    api,
    root: join(root, ns),
    namespace: ns,
    env: { REDIS_EXTRA_CONF: bad },
    log: process.env.TEST_VERBOSE ? (p, l) => process.stderr.write(`[${p}] ${l}\n`) : undefined,
  }).init();
  const p = await c.startPod(0);
  const t0 = Date.now();
  const exit = await Promise.race([p.redis?.exited, new Promise<null>((r) => setTimeout(r, 15_000, null))]);
  assert.ok(exit, `the launcher did not exit within 15 s after redis-server failed:\n${p.redis?.tail.join('\n')}`);
  assert.equal(exit.exitCode, 1, 'redis-server exit code 1 passed on');
  assert.ok(Date.now() - t0 < 15_000);
  assert.equal(c.labels()['redis-0'], undefined, 'no label for a Redis that never answered');
  const record = api.getObject('leases', ns, 'mymaster-master');
  // The first-boot claim is the decision's commit point (taken before Redis starts, as it must be); it may name
  // this pod, but nothing else was written for it: no label.
  assert.ok(!record || record.spec.holderIdentity === 'redis-0');
  await waitFor(
    'sentinel still waiting, not crashed',
    () => p.sentinel?.tail.some((l) => /waits/.test(l)) ?? false,
    20_000,
  );
  await c.stopAll();
});
