// A promote run that waits at the label lock while Sentinel fails over again: once it holds the lock, it re-checks
// that its target is still the master a majority names, and writes neither the label nor the record otherwise.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { REPO } from '../support/cluster.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { startPromotedWorld } from '../support/promoted-world.ts';
import { stopAll } from '../support/processes.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'redis';
let api: KubeStandin;
let root: string;
let kubeconfig: string;
const ips: string[] = [];

before(async () => {
  api = await new KubeStandin({ tokens: { admin: { user: 'system:admin' } } }).start();
  root = await mkdtemp(join(tmpdir(), 'rhl-relabel-stale-'));
  kubeconfig = await api.writeKubeconfig(root, { namespace: NS, token: 'admin' });
  ips.push(...(await startPromotedWorld(api, root, NS)));
});
after(async () => {
  await stopAll();
  await api.close();
  await rm(root, { recursive: true, force: true });
});

const namedBy = async (host: string) =>
  ((await ask(host, 26379, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[] | null)?.[0];

test('a promote that waited at the label lock through a second failover writes no label and no record', async () => {
  await waitFor('every Sentinel to know both replicas', async () => {
    for (const ip of ips) {
      const replicas = (await ask(ip, 26379, 'SENTINEL', 'REPLICAS', 'mymaster')) as unknown[];
      if (replicas.length < 2) return false;
    }
    return true;
  });
  // Another writer holds the label lock (a promote for an earlier failover, say).
  const lock = 'mymaster-master-labels';
  api.put('leases', {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: lock, namespace: NS },
    spec: { holderIdentity: 'redis-0/other', leaseDurationSeconds: 15, renewTime: new Date().toISOString() },
  });
  let atLock = false;
  const listener = (r: { method: string; url: string }) => {
    if (r.method === 'GET' && r.url.includes(`/leases/${lock}`)) atLock = true;
  };
  api.requestListeners.add(listener);
  const run = execa(
    join(REPO, 'bin/launcher-promote'),
    ['mymaster', 'observer', 'start', ips[0], '6379', ips[1], '6379'],
    {
      env: {
        PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
        KUBECONFIG: kubeconfig,
        POD_NAME: 'redis-2',
        POD_NAMESPACE: NS,
        POD_IP: ips[2],
        REDIS_POD_SELECTOR: 'app=redis',
      },
      reject: false,
      timeout: 30_000,
    },
  );
  try {
    // The run has confirmed redis-1 (it asks for the lock only then) and waits for it.
    await waitFor('the promote run to wait at the label lock', () => atLock, 10_000).catch(async (e) => {
      run.kill();
      throw new Error(`${(e as Error).message}; the run said: ${(await run).stderr}`);
    });
    // Sentinel fails over again, away from redis-1.
    await ask(ips[0], 26379, 'SENTINEL', 'FAILOVER', 'mymaster');
    await waitFor(
      'a majority of the Sentinels to name another master',
      async () => (await Promise.all(ips.map(namedBy))).filter((h) => h && h !== ips[1]).length >= 2,
      8_000,
    );
    // The earlier writer is done.
    const l = api.getObject('leases', NS, lock)!;
    api.put('leases', { ...l, spec: { ...l.spec, holderIdentity: null } });
    const r = await run;
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /not labell/);
    assert.notEqual(api.getObject('pods', NS, 'redis-1')!.metadata.labels?.['redis-role'], 'master');
    const record = api.getObject('leases', NS, 'mymaster-master');
    assert.notEqual(
      record?.spec.holderIdentity,
      'redis-1',
      'the record does not name the pod that is no longer master',
    );
  } finally {
    api.requestListeners.delete(listener);
    run.kill();
    await run.catch(() => {});
  }
});
