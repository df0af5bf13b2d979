// The master of record (a Lease) as the first-boot tie-breaker: create once, replace only at the observed
// resourceVersion, and move with writeRecord (409s retried) — against the stand-in API through client-node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectKube, type Kube } from '../../src/kube/api.ts';
import { claimRecord, createRecord, readRecord, writeRecord } from '../../src/kube/record.ts';
import { KubeStandin } from '../support/kube/server.ts';

let api: KubeStandin;
let kube: Kube;
let dir: string;

before(async () => {
  api = await new KubeStandin().start();
  api.ensureNamespace('redis');
  dir = await mkdtemp(join(tmpdir(), 'rhl-record-'));
  process.env.KUBECONFIG = await api.writeKubeconfig(dir, { namespace: 'redis' });
  kube = connectKube('redis');
});
after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

test('only one pod can create the record; a second create is refused', async () => {
  const [a, b] = await Promise.all([
    createRecord(kube, 'r1', 'redis-0', '10.0.0.10'),
    createRecord(kube, 'r1', 'redis-1', '10.0.0.11'),
  ]);
  assert.equal(Number(a) + Number(b), 1);
  const rec = await readRecord(kube, 'r1');
  assert.equal(rec?.pod, a ? 'redis-0' : 'redis-1');
});

test('a Lease without a holder is a record to claim at its resourceVersion, not a missing one to create', async () => {
  api.put('leases', { metadata: { name: 'r-empty', namespace: 'redis' }, spec: { holderIdentity: '' } });
  const seen = await readRecord(kube, 'r-empty');
  assert.ok(seen, 'the Lease exists, so the observation must carry its resourceVersion');
  assert.equal(await claimRecord(kube, 'r-empty', 'redis-0', '10.0.0.10', seen), true);
  assert.equal((await readRecord(kube, 'r-empty'))?.pod, 'redis-0');
});

test('claiming an existing record succeeds only at the resourceVersion the decision observed', async () => {
  await createRecord(kube, 'r2', 'redis-7', '10.0.0.17');
  const seen = await readRecord(kube, 'r2');
  assert.equal(
    await claimRecord(kube, 'r2', 'redis-0', '10.0.0.10', null),
    false,
    'a create over an existing record fails',
  );
  const [a, b] = await Promise.all([
    claimRecord(kube, 'r2', 'redis-0', '10.0.0.10', seen),
    claimRecord(kube, 'r2', 'redis-1', '10.0.0.11', seen),
  ]);
  assert.equal(Number(a) + Number(b), 1, 'exactly one claim wins');
  assert.equal(await claimRecord(kube, 'r2', 'redis-2', '10.0.0.12', seen), false, 'a stale observation loses');
  assert.equal((await readRecord(kube, 'r2'))?.pod, a ? 'redis-0' : 'redis-1');
});

test('writeRecord moves the record (creating it when missing) and is idempotent', async () => {
  await writeRecord(kube, 'r3', 'redis-2', '10.0.0.12');
  assert.deepEqual(
    { ...(await readRecord(kube, 'r3')), resourceVersion: undefined },
    { pod: 'redis-2', ip: '10.0.0.12', resourceVersion: undefined },
  );
  const rv = api.store.rv;
  await writeRecord(kube, 'r3', 'redis-2', '10.0.0.12');
  assert.equal(api.store.rv, rv, 'no write when nothing changes');
  await writeRecord(kube, 'r3', 'redis-1', '10.0.0.11');
  assert.equal((await readRecord(kube, 'r3'))?.pod, 'redis-1');
});
