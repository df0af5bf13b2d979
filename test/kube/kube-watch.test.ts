// The watches the supervisors read from (src/kube/watch.ts) against the stand-in: list once, then follow changes
// with no further request, also through quiet periods; a dropped stream resumes from its resourceVersion without
// relisting; a failed watch hands readers back to the API until it is up again; a resourceVersion too old (410)
// relists.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectKube, type Kube } from '../../src/kube/api.ts';
import { currentPods } from '../../src/kube/pods.ts';
import { currentRecord, writeRecord } from '../../src/kube/record.ts';
import { startWatches, watchPods } from '../../src/kube/watch.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'watching';
let api: KubeStandin;
let kube: Kube;
let dir: string;
const requests: { method: string; url: string }[] = [];
const seen = (re: RegExp) => requests.filter((r) => re.test(`${r.method} ${r.url}`)).length;
const LIST = /^GET \/api\/v1\/namespaces\/watching\/pods\?(?!.*watch=true)/;
const WATCH = /^GET \/api\/v1\/namespaces\/watching\/pods\?.*watch=true/;

before(async () => {
  api = await new KubeStandin({ historyLimit: 20, onRequest: (r) => requests.push(r) }).start();
  api.ensureNamespace(NS);
  for (let i = 0; i < 3; i++) {
    api.put('pods', statefulSetPod({ sts: 'redis', ordinal: i, namespace: NS, labels: { app: 'redis' } }));
    setPodState(api, NS, `redis-${i}`, { phase: 'Running', podIP: `10.0.0.${i + 1}`, ready: true });
  }
  api.put('pods', statefulSetPod({ sts: 'other', ordinal: 0, namespace: NS, labels: { app: 'other' } }));
  dir = await mkdtemp(join(tmpdir(), 'rhl-watch-'));
  process.env.KUBECONFIG = await api.writeKubeconfig(dir, { namespace: NS });
  kube = connectKube(NS);
});
after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const label = (name: string, value: string) => {
  const pod = api.getObject('pods', NS, name)!;
  api.put('pods', { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, mark: value } } });
};
const marks = (w: { items(): readonly { metadata?: { labels?: Record<string, string> } }[] | undefined }) =>
  (w.items() ?? []).map((p) => p.metadata?.labels?.mark ?? '').join(',');

test('a watch lists once, then follows changes with no further request; a dropped stream resumes', async (t) => {
  requests.length = 0;
  const w = await watchPods(kube, 'app=redis').start();
  t.after(() => w.stop());
  assert.equal(w.items()?.length, 3, 'only the selected pods');
  label('redis-1', 'a');
  await waitFor('the change arrives', () => (marks(w) === ',a,' ? true : undefined), 5000);
  assert.equal(seen(LIST), 1);
  assert.equal(seen(WATCH), 1);

  api.dropWatches();
  label('redis-2', 'b'); // while no stream is open: the resumed watch must replay it
  await waitFor('the change made while no stream was open', () => (marks(w) === ',a,b' ? true : undefined), 5000);
  assert.equal(seen(LIST), 1, 'resumed from its resourceVersion, not relisted');
  assert.equal(seen(WATCH), 2);
  assert.match(requests.filter((r) => WATCH.test(`${r.method} ${r.url}`))[1].url, /resourceVersion=[1-9]/);
});

test('a quiet watch stays open: no request for longer than a client-side idle timeout of 30 s', async (t) => {
  // kube-apiserver sends a BOOKMARK on a quiet watch about once a minute (the stand-in too, by default); between
  // two, nothing. A watch torn down and reopened every 30 s of quiet costs two requests a minute per watch.
  requests.length = 0;
  const w = await watchPods(kube, 'app=redis').start();
  t.after(() => w.stop());
  // This window is the thing measured, not a wait for a state.
  const until = Date.now() + 35_000;
  await waitFor('35 s of quiet', () => (Date.now() >= until ? true : undefined), 40_000, 500);
  assert.equal(seen(WATCH), 1, 'the watch was not reopened');
  assert.ok(w.items(), 'and it is up');
  label('redis-0', 'after-quiet');
  await waitFor(
    'a change after the quiet arrives',
    () => (marks(w).startsWith('after-quiet') ? true : undefined),
    5000,
  );
});

test('a failing watch sends readers to the API; once back, a resourceVersion too old relists', async (t) => {
  requests.length = 0;
  const w = await watchPods(kube, 'app=redis').start();
  kube.watched.pods.set('app=redis', w);
  t.after(() => {
    w.stop();
    kube.watched.pods.delete('app=redis');
  });
  await currentPods(kube, 'app=redis');
  assert.equal(seen(LIST), 1, 'readers use the watch while it is up');

  const failing = api.faults.add({ method: 'GET', match: (r) => r.query.get('watch') === 'true', status: 500 });
  api.dropWatches();
  await waitFor('the watch is down', () => (w.items() === undefined ? true : undefined), 5000);
  label('redis-0', 'fresh');
  const pods = await currentPods(kube, 'app=redis');
  assert.equal(pods.length, 3);
  assert.equal(seen(LIST), 2, 'with the watch down, a reader lists');
  // More changes than the stand-in keeps (historyLimit 20): the last resourceVersion is gone when it resumes.
  for (let i = 0; i < 30; i++) label('redis-2', `n${i}`);
  failing.remove();
  await waitFor('the watch is back', () => (w.items() ? true : undefined), 10_000);
  await waitFor('up to date after relisting', () => (marks(w) === 'fresh,a,n29' ? true : undefined), 5000);
  const lists = seen(LIST);
  assert.ok(lists >= 3, 'a 410 relists');
  await currentPods(kube, 'app=redis');
  assert.equal(seen(LIST), lists, 'and readers use the watch again');
});

test('the master of record is read from its watch: no request per read, and it follows writes', async (t) => {
  requests.length = 0;
  const stop = startWatches(
    kube,
    { podSelector: 'app=redis', sentinelSelector: 'app=redis', sentinelSidecar: true, masterRecord: 'mymaster-master' },
    { record: true },
  );
  t.after(stop);
  await waitFor('both watches up', () =>
    [...kube.watched.pods.values(), ...kube.watched.leases.values()].every((w) => w.items()) ? true : undefined,
  );
  assert.equal(await currentRecord(kube, 'mymaster-master'), null, 'no record yet');
  await writeRecord(kube, 'mymaster-master', 'redis-1', '10.0.0.2');
  await waitFor('the watch sees the write', async () =>
    (await currentRecord(kube, 'mymaster-master'))?.pod === 'redis-1' ? true : undefined,
  );
  const before = requests.length;
  for (let i = 0; i < 10; i++) await currentRecord(kube, 'mymaster-master');
  assert.equal(requests.length, before, 'reads cost no request');
  assert.ok(
    requests.some((r) => /leases\?.*watch=true/.test(r.url) && /metadata.name%3Dmymaster-master/.test(r.url)),
    `one Lease watched by name: ${requests.map((r) => r.url).join(' ')}`,
  );
});
