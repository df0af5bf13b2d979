// The redis-role label as the launcher writes it: never two pods labelled master at any API write, even when
// writers that disagree on the target (a supervisor acting on a pre-failover view, promote on the new master)
// run at the same time over a slow API.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectKube, type Kube } from '../../src/kube/api.ts';
import { parseConfig } from '../../src/config/parse.ts';
import { withLock } from '../../src/kube/lock.ts';
import { labelLock, labelOnlyMaster, sentinelTargets } from '../../src/kube/pods.ts';
import { masterLabelled, watchMasterLabelsIn } from '../support/cluster.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'labels';
let api: KubeStandin;
let kube: Kube;
let dir: string;

before(async () => {
  api = await new KubeStandin().start();
  api.ensureNamespace(NS);
  for (let i = 0; i < 3; i++) {
    api.put('pods', statefulSetPod({ sts: 'redis', ordinal: i, namespace: NS, labels: { app: 'redis' } }));
    setPodState(api, NS, `redis-${i}`, { phase: 'Running', podIP: `10.0.0.${i + 1}`, ready: true });
  }
  dir = await mkdtemp(join(tmpdir(), 'rhl-labels-'));
  process.env.KUBECONFIG = await api.writeKubeconfig(dir, { namespace: NS });
  kube = connectKube(NS);
});
after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const masters = () => masterLabelled(api, NS);

test('two writers with different targets, interleaved by a slow API, never leave two master labels', async () => {
  const watch = watchMasterLabelsIn(api, NS);
  try {
    for (const [first, second] of [
      ['redis-0', 'redis-1'],
      ['redis-2', 'redis-0'],
    ]) {
      // The first writer's master label is slow to land (held 500 ms before it is applied, as by a slow
      // apiserver): the second writer's whole run fits in that gap unless the two are serialised.
      const slow = api.faults.add({
        method: 'PATCH',
        path: `/api/v1/namespaces/${NS}/pods/${first}`,
        body: '"redis-role":"master"',
        delayMs: 500,
        delayWhen: 'request',
        times: 1,
      });
      // Both writers in one process, as the +switch-master relabel and a promote handed over by the hook are.
      const lock = () => labelLock({ masterRecord: 'mymaster-master', podName: 'redis-sentinel-host' });
      const one = labelOnlyMaster(kube, 'app=redis', first, lock());
      await waitFor('the first writer is labelling its target', () => slow.seen >= 1, 5000, 5);
      await Promise.all([one, labelOnlyMaster(kube, 'app=redis', second, lock())]);
      slow.remove();
      assert.equal(slow.hits, 1, 'the slow write happened');
      assert.equal(masters().length, 1, `exactly one master label at the end: ${masters()}`);
    }
  } finally {
    watch.stop();
  }
  assert.deepEqual(watch.doubles, [], 'a write left two pods labelled master');
});

test('the Sentinel majority counts Sentinel pods that have an IP: a pod still Pending never ran one', async () => {
  api.put('pods', statefulSetPod({ sts: 'redis', ordinal: 3, namespace: NS, labels: { app: 'redis' } })); // Pending
  const c = parseConfig({
    POD_NAME: 'redis-0',
    POD_NAMESPACE: NS,
    POD_IP: '10.0.0.1',
    REDIS_POD_SELECTOR: 'app=redis',
  });
  const t = await sentinelTargets(c, kube);
  assert.equal(t.known, 3, 'redis-3 is Pending without an IP: 3 voters, a majority of 2');
  assert.equal(t.addresses.length, 3);
  api.deleteObject('pods', NS, 'redis-3');
});

test('a writer whose view went stale while it waited for the lock writes nothing', async () => {
  const before = masterLabelled(api, NS);
  const podWrites: string[] = [];
  const off = api.store.subscribe((ch) => {
    if (ch.bucket === 'pods') podWrites.push(ch.bucket);
  });
  const r = await labelOnlyMaster(
    kube,
    'app=redis',
    before[0] === 'redis-1' ? 'redis-2' : 'redis-1',
    labelLock({ masterRecord: 'mymaster-master', podName: 'redis-1' }),
    { stale: async () => 'a majority of the Sentinels now names another master' },
  );
  assert.equal(r.refused, 'a majority of the Sentinels now names another master');
  off();
  assert.deepEqual(masterLabelled(api, NS), before, 'labels untouched');
  assert.deepEqual(podWrites, [], 'no pod was written');
});

test('a holder past its lock time may not write any more: the next holder could already have it', async () => {
  const lock = { name: 'slow-lock', holder: 'slow', seconds: 1, waitMs: 1000 };
  await assert.rejects(
    withLock(kube, lock, async (inTime) => {
      inTime(); // at once: fine
      const t0 = Date.now();
      await waitFor('the lock time mostly spent', () => Date.now() - t0 > 700, 2000, 50);
      inTime();
    }),
    /held the lock slow-lock too long to write safely/,
  );
  assert.equal(api.getObject('leases', NS, 'slow-lock')?.spec.holderIdentity ?? '', '', 'given back all the same');
});

// Expiry as client-go's leader election judges it: by how long this process has seen the Lease unchanged on its
// own clock, never by comparing another node's renewTime with the local clock.
const putLease = (name: string, spec: Record<string, unknown>) =>
  api.put('leases', {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: NS },
    spec,
  });

test('a lock renewed just now by a node whose clock is an hour behind is not taken', async () => {
  const behind = new Date(Date.now() - 3600_000).toISOString().replace(/Z$/, '000Z');
  putLease('skewed-lock', { holderIdentity: 'redis-0/other', leaseDurationSeconds: 15, renewTime: behind });
  await assert.rejects(
    withLock(kube, { name: 'skewed-lock', holder: 'me', seconds: 15, waitMs: 300 }, async () => 'taken'),
    /stayed taken/,
  );
  assert.equal(api.getObject('leases', NS, 'skewed-lock')?.spec.holderIdentity, 'redis-0/other');
});

test('a lock whose holder died is taken once it has been seen unchanged for its duration', async () => {
  const ahead = new Date(Date.now() + 3600_000).toISOString().replace(/Z$/, '000Z');
  putLease('dead-lock', { holderIdentity: 'redis-0/dead', leaseDurationSeconds: 1, renewTime: ahead });
  const t0 = performance.now();
  assert.equal(await withLock(kube, { name: 'dead-lock', holder: 'me', seconds: 1, waitMs: 3000 }, async () => 7), 7);
  assert.ok(performance.now() - t0 >= 1000, 'not before its duration has passed here');
});

test("a holder's lock time runs from before its write, not from the API's late answer", async () => {
  // The acquiring PATCH is applied at once and answered 1.5 s late: others see the new holder from the moment it
  // is applied, so the holder's 1 s (x 0.6) has run out by the time it learns it holds the lock.
  const slow = api.faults.add({
    method: 'PATCH',
    path: `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/late-lock`,
    body: '"holderIdentity":"late"',
    delayMs: 1500,
    times: 1,
  });
  putLease('late-lock', { holderIdentity: null, leaseDurationSeconds: 1 });
  try {
    await assert.rejects(
      withLock(kube, { name: 'late-lock', holder: 'late', seconds: 1, waitMs: 3000 }, async (inTime) => inTime()),
      /held the lock late-lock too long to write safely/,
    );
  } finally {
    slow.remove();
  }
});
