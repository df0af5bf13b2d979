// @kubernetes/client-node 2.x on Node 24 against the stand-in, through a kubeconfig and loadFromDefault()
// exactly as the launcher reaches a cluster.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { tempDir } from '../support/tmp.ts';

const NS = 'redis';
let api: KubeStandin;
let core: k8s.CoreV1Api;
let kc: k8s.KubeConfig;
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

before(async () => {
  api = await new KubeStandin().start();
  for (const i of [0, 1, 2]) {
    api.put('pods', statefulSetPod({ sts: 'redis', ordinal: i, namespace: NS, labels: { app: 'redis' } }));
    setPodState(api, NS, `redis-${i}`, { phase: 'Running', podIP: `10.0.0.${i + 1}`, ready: true });
  }
});
after(() => api.close());

test('C1 Node 24 and client-node 2.x; loadFromDefault() via KUBECONFIG with insecure-skip-tls-verify', async (t) => {
  assert.equal(Number(process.versions.node.split('.')[0]), 24);
  const dir = await tempDir(t);
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = await api.writeKubeconfig(dir, { namespace: NS });
  try {
    kc = new k8s.KubeConfig();
    kc.loadFromDefault();
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
  assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true);
  core = kc.makeApiClient(k8s.CoreV1Api);
});

test('lists pods by label and field selector', async () => {
  const all = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=redis,redis-role notin (master)' });
  assert.deepEqual(
    all.items.map((p) => p.metadata?.name),
    ['redis-0', 'redis-1', 'redis-2'],
  );
  const byIp = await core.listNamespacedPod({ namespace: NS, fieldSelector: 'status.podIP=10.0.0.2' });
  assert.deepEqual(
    byIp.items.map((p) => p.metadata?.name),
    ['redis-1'],
  );
});

test('merge-patches a label with the content-type override; the default content type is refused with 400', async () => {
  const p = await core.patchNamespacedPod(
    { name: 'redis-0', namespace: NS, body: { metadata: { labels: { 'redis-role': 'master' } } } },
    merge,
  );
  assert.equal(p.metadata?.labels?.['redis-role'], 'master');
  await assert.rejects(
    core.patchNamespacedPod({
      name: 'redis-0',
      namespace: NS,
      body: { metadata: { labels: { 'redis-role': 'slave' } } },
    }),
    (e: unknown) => e instanceof k8s.ApiException && e.code === 400,
  );
  assert.equal(api.getObject('pods', NS, 'redis-0')!.metadata.labels!['redis-role'], 'master');
});

test('a stale resourceVersion gets 409 Conflict with reason Conflict', async () => {
  const pod = await core.readNamespacedPod({ name: 'redis-1', namespace: NS });
  const rv = pod.metadata!.resourceVersion!;
  await core.patchNamespacedPod(
    { name: 'redis-1', namespace: NS, body: { metadata: { resourceVersion: rv, labels: { x: '1' } } } },
    merge,
  );
  await assert.rejects(
    core.patchNamespacedPod(
      { name: 'redis-1', namespace: NS, body: { metadata: { resourceVersion: rv, labels: { x: '2' } } } },
      merge,
    ),
    (e: unknown) =>
      e instanceof k8s.ApiException && e.code === 409 && JSON.parse(e.body as string).reason === 'Conflict',
  );
});

test('creates a core/v1 Event (201) and reads a missing StatefulSet as 404', async () => {
  const now = new Date();
  const ev = await core.createNamespacedEvent({
    namespace: NS,
    body: {
      metadata: { generateName: 'redis-0.', namespace: NS },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'redis-0', namespace: NS },
      type: 'Normal',
      reason: 'Test',
      message: 'hello',
      source: { component: 'redis-ha-launcher' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  });
  assert.match(ev.metadata?.name ?? '', /^redis-0\./);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await assert.rejects(
    apps.readNamespacedStatefulSet({ name: 'redis', namespace: NS }),
    (e: unknown) => e instanceof k8s.ApiException && e.code === 404,
  );
});

test('an informer sees label changes that move pods in and out of its selector', async () => {
  const path = `/api/v1/namespaces/${NS}/pods`;
  const sel = 'redis-role=master';
  const inf = k8s.makeInformer(kc, path, () => core.listNamespacedPod({ namespace: NS, labelSelector: sel }), sel);
  const seen: string[] = [];
  inf.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
  inf.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
  await inf.start();
  try {
    await core.patchNamespacedPod(
      { name: 'redis-2', namespace: NS, body: { metadata: { labels: { 'redis-role': 'master' } } } },
      merge,
    );
    await core.patchNamespacedPod(
      { name: 'redis-0', namespace: NS, body: { metadata: { labels: { 'redis-role': null } } } },
      merge,
    );
    const deadline = Date.now() + 5000;
    while (!(seen.includes('add redis-2') && seen.includes('delete redis-0')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(seen, ['add redis-0', 'add redis-2', 'delete redis-0']);
    assert.deepEqual(
      inf.list(NS).map((p) => p.metadata?.name),
      ['redis-2'],
    );
  } finally {
    await inf.stop();
  }
});
