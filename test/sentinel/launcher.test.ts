// The launcher end to end with real processes: 3 pods (Redis + sidecar Sentinel each) on loopback, the stand-in API.
// Phases run in order on one cluster: boot -> master SIGKILL and failover -> return with a new IP -> full restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster, watchMasterLabels } from '../support/cluster.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

let api: KubeStandin;
let c: LocalCluster;
let root: string;
const keys: string[] = [];
let masterOrdinal = -1;
let killed = -1;

before(async () => {
  api = await new KubeStandin().start();
  root = await mkdtemp(join(tmpdir(), 'rhl-launcher-'));
  c = await new LocalCluster({
    api,
    root,
    log: process.env.TEST_VERBOSE ? (p, l) => process.stderr.write(`[${p}] ${l}\n`) : undefined,
  }).init();
});
after(async () => {
  await stopAll();
  await api.close();
  await rm(root, { recursive: true, force: true });
});

const masterPod = () => {
  const m = c.labelledMasters();
  assert.equal(m.length, 1, `labelled masters: ${m}`);
  return Number(m[0].split('-').pop());
};

const converged = (what: string, ms = 30_000) => c.converged(what, ms);

async function writeAcked(n: number) {
  const m = connect(c.pod(masterPod()).ip, 6379);
  try {
    for (let i = 0; i < n; i++) {
      const k = `k${keys.length}`;
      await m.set(k, `v${keys.length}`);
      keys.push(k);
    }
    const acked = Number(await m.call('WAIT', '2', '10000'));
    assert.equal(acked, 2, 'both replicas acknowledged the writes');
  } finally {
    m.disconnect();
  }
}

async function assertKeys(ordinal: number) {
  const r = connect(c.pod(ordinal).ip, 6379);
  try {
    const values = keys.length ? await r.mget(...keys) : [];
    const missing = keys.filter((k, i) => values[i] !== `v${k.slice(1)}`);
    assert.deepEqual(missing, [], `keys missing on ${c.pod(ordinal).name}`);
  } finally {
    r.disconnect();
  }
}

describe('launcher with real Redis and Sentinel', () => {
  test('3 pods started at once boot to exactly one master, labels true, Sentinels agreeing', async (t) => {
    const t0 = Date.now();
    const sampler = watchMasterLabels(c);
    t.after(() => sampler.stop());
    await c.startAll();
    await waitFor('a pod labelled master', () => c.labelledMasters().length === 1, 30_000);
    t.diagnostic(`boot to labelled master: ${Date.now() - t0} ms`);
    await converged('boot convergence');
    t.diagnostic(`boot to converged (labels, ROLE, all Sentinels): ${Date.now() - t0} ms`);
    sampler.stop();
    assert.deepEqual(sampler.doubles, []);
    masterOrdinal = masterPod();
    assert.equal(masterOrdinal, 0, 'first boot picks the lowest ordinal');
    assert.equal(api.listObjects('leases', 'redis')[0]?.spec.holderIdentity, 'redis-0');
    await writeAcked(50);

    const roleOut = await c.launcherRole(1);
    assert.equal(roleOut.exitCode, 0, roleOut.stderr);
    assert.match(roleOut.stdout, /role:\s+replica/);
    assert.match(roleOut.stdout, /master: redis-0 \(/);
    assert.match(roleOut.stdout, /sentinels 3\/3 name redis-0/);
    const json = JSON.parse((await c.launcherRole(0, true)).stdout);
    assert.equal(json.role, 'master');
    assert.equal(json.rule, 'sentinels');
  });

  test("every Sentinel reads its instances' INFO every second (a promotion is seen within one)", async () => {
    // Sentinel's own period is 10 s; in a failover it reads replicas every second counted from the last read, so a
    // planned handover saw its promotion a full second after SLAVEOF NO ONE (the read at the failover's start
    // comes just before it). At 1 s throughout, the next read is due anywhere in that second.
    for (const i of c.ordinals) {
      const s = connect(c.pod(i).ip, 26379);
      try {
        await waitFor(`${c.pod(i).name}'s Sentinel at INFO-PERIOD 1000`, async () => {
          const d = (await s.call('SENTINEL', 'DEBUG')) as string[];
          return d[d.indexOf('INFO-PERIOD') + 1] === '1000';
        });
        // Sampled for 3 s: at 10 s a read's age passes 1.8 s in any 3 s; at 1 s it never does.
        const ages: number[] = [];
        for (const until = Date.now() + 3000; Date.now() < until; await sleep(100)) {
          const replicas = (await s.call('SENTINEL', 'REPLICAS', 'mymaster')) as string[][];
          assert.equal(replicas.length, 2, `${c.pod(i).name}'s Sentinel knows both replicas`);
          ages.push(...replicas.map((r) => Number(r[r.indexOf('info-refresh') + 1])));
        }
        assert.ok(Math.max(...ages) < 1800, `${c.pod(i).name}'s Sentinel read every replica within 1.8 s: ${ages}`);
      } finally {
        s.disconnect();
      }
    }
  });

  test('launcher role writes nothing to the API', async () => {
    // role runs with a token of its own, so that its requests are told apart from the supervisors' (which may
    // still be writing, e.g. a replica's data annotation after its first sync).
    const token = 'role-only';
    api.tokens[token] = { user: 'system:serviceaccount:redis:role-check' };
    const kubeconfig = await api.writeKubeconfig(root, { namespace: c.ns, token, file: 'role-kubeconfig' });
    const requests: string[] = [];
    const listen = (r: { method: string; url: string; headers: Record<string, unknown> }) => {
      if (r.headers.authorization === `Bearer ${token}`) requests.push(`${r.method} ${r.url.split('?')[0]}`);
    };
    api.requestListeners.add(listen);
    try {
      const r = await c.launcherRole(2, false, { KUBECONFIG: kubeconfig });
      assert.equal(r.exitCode, 0, r.stderr);
    } finally {
      api.requestListeners.delete(listen);
    }
    assert.ok(requests.length > 0, 'role reads the API');
    assert.deepEqual(
      requests.filter((r) => !r.startsWith('GET ')),
      [],
    );
  });

  test('SIGKILL of the master: Sentinel fails over, promote relabels, never two pods labelled master', async (t) => {
    const sampler = watchMasterLabels(c);
    t.after(() => sampler.stop());
    const old = masterOrdinal;
    killed = old;
    const t0 = Date.now();
    await c.killPod(old);
    const newMaster = await waitFor(
      'another pod labelled master',
      () => {
        const m = c.labelledMasters();
        return m.length === 1 && m[0] !== c.pod(old).name ? m[0] : undefined;
      },
      30_000,
      20,
    );
    const relabelMs = Date.now() - t0;
    const ip = c.pod(Number(newMaster.split('-').pop())).ip;
    const views = await c.sentinelViews();
    t.diagnostic(`kill to relabel: ${relabelMs} ms (new master ${newMaster})`);
    assert.ok(views.filter((v) => v === `${ip}:6379`).length >= 2, `sentinels: ${views}`);
    assert.equal(c.labels()[c.pod(old).name], 'slave');
    sampler.stop();
    assert.deepEqual(sampler.doubles, [], 'never two pods labelled master');
    t.diagnostic(`label samples during failover: ${sampler.samples}`);
    masterOrdinal = Number(newMaster.split('-').pop());
    await waitFor(
      'master of record follows the failover',
      () => api.listObjects('leases', 'redis')[0]?.spec.holderIdentity === newMaster,
      10_000,
    );
    await assertKeys(masterOrdinal);
  });

  test('the killed pod comes back with a new IP as a replica of the new master', async (t) => {
    const old = killed;
    const oldIp = c.pod(old).ip;
    const t0 = Date.now();
    const p = await c.recreatePod(old, 'kill');
    assert.notEqual(p.ip, oldIp);
    await waitFor(
      'returned pod replicates the new master',
      async () => (await c.role(old)) === 'slave' && c.labels()[p.name] === 'slave',
      30_000,
      100,
    );
    t.diagnostic(`return with new IP to replica: ${Date.now() - t0} ms`);
    assert.equal(masterPod(), masterOrdinal);
    const out = await c.launcherRole(old);
    assert.match(out.stdout, /role:\s+replica/);
    assert.match(out.stdout, new RegExp(`master: redis-${masterOrdinal} \\(`));
    await waitFor(
      'replica synced all keys',
      async () => {
        try {
          await assertKeys(old);
          return true;
        } catch {
          return false;
        }
      },
      20_000,
      100,
    );
    await writeAcked(50);
  });

  test('full restart of all pods (new IPs) keeps the previous master and every WAIT-acknowledged key', async (t) => {
    const previous = c.pod(masterOrdinal).name;
    const sampler = watchMasterLabels(c);
    t.after(() => sampler.stop());
    await c.stopAll();
    for (const i of [0, 1, 2]) api.deleteObject('pods', 'redis', c.pod(i).name);
    const t0 = Date.now();
    await Promise.all([2, 0, 1].map((i) => c.startPod(i, { newIp: true })));
    await waitFor('previous master labelled master again', () => c.labelledMasters()[0] === previous, 30_000);
    t.diagnostic(`full restart to labelled master: ${Date.now() - t0} ms`);
    await converged('full restart convergence');
    sampler.stop();
    assert.deepEqual(sampler.doubles, []);
    assert.equal(masterPod(), masterOrdinal);
    for (const i of [0, 1, 2]) {
      await waitFor(
        `all keys on redis-${i}`,
        async () => {
          try {
            await assertKeys(i);
            return true;
          } catch {
            return false;
          }
        },
        20_000,
        100,
      );
    }
    const out = await c.launcherRole((masterOrdinal + 1) % 3);
    assert.match(out.stdout, /role:\s+replica/);
  });
});
