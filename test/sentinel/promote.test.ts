// `launcher-promote` as Sentinel runs it: exit codes for every kind of failure, confirmation against the
// Sentinels rather than the arguments, three concurrent runs, and its cold wall time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { masterLabelled, REPO, watchMasterLabelsIn } from '../support/cluster.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { startPromotedWorld } from '../support/promoted-world.ts';
import { stopAll } from '../support/processes.ts';
import { loopbackAddress } from '../support/redis.ts';

const NS = 'redis';
let api: KubeStandin;
let root: string;
let kubeconfig: string;
const ips: string[] = [];

before(async () => {
  api = await new KubeStandin({
    tokens: {
      admin: { user: 'system:admin' },
      readonly: {
        user: 'system:serviceaccount:redis:readonly',
        grants: [{ verbs: ['get', 'list', 'watch'], resources: ['*'] }],
      },
    },
  }).start();
  root = await mkdtemp(join(tmpdir(), 'rhl-promote-'));
  kubeconfig = await api.writeKubeconfig(root, { namespace: NS, token: 'admin' });
  ips.push(...(await startPromotedWorld(api, root, NS)));
});
after(async () => {
  await stopAll();
  await api.close();
  await rm(root, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({
  PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
  KUBECONFIG: kubeconfig,
  POD_NAME: 'redis-2',
  POD_NAMESPACE: NS,
  POD_IP: ips[2],
  REDIS_POD_SELECTOR: 'app=redis',
  ...extra,
});
const promote = (args: string[], extra: Record<string, string> = {}) =>
  execa(join(REPO, 'bin/launcher-promote'), args, { env: env(extra), reject: false, timeout: 30_000 });
const args = (to: string, set = 'mymaster') => [set, 'observer', 'start', ips[0], '6379', to, '6379'];

describe('launcher-promote', () => {
  test('relabels: the new master labelled, every other pod not; record updated; exit 0 (cold time)', async (t) => {
    const t0 = Date.now();
    const r = await promote(args(ips[1]));
    t.diagnostic(`cold launcher-promote wall time: ${Date.now() - t0} ms`);
    assert.equal(r.exitCode, 0, r.stderr);
    const labels = Object.fromEntries(
      api.listObjects('pods', NS).map((p) => [p.metadata.name, p.metadata.labels?.['redis-role']]),
    );
    assert.deepEqual(labels, { 'redis-0': 'slave', 'redis-1': 'master', 'redis-2': 'slave' });
    assert.equal(api.listObjects('leases', NS)[0].spec.holderIdentity, 'redis-1');
    assert.ok(
      api.listObjects('events', NS).some((e) => e.reason === 'PromotedToMaster' && e.involvedObject.name === 'redis-1'),
    );
  });

  test('three concurrent runs are idempotent and never leave two masters', async () => {
    const relabel = (name: string, role: string) => {
      const pod = api.getObject('pods', NS, name)!;
      api.put('pods', {
        ...pod,
        metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, 'redis-role': role } },
      });
    };
    relabel('redis-0', 'master'); // stale label, as after a lost promote
    relabel('redis-1', 'slave');
    const watch = watchMasterLabelsIn(api, NS);
    const runs = await Promise.all([0, 1, 2].map(() => promote(args(ips[1]))));
    watch.stop();
    assert.deepEqual(
      runs.map((r) => r.exitCode),
      [0, 0, 0],
      runs.map((r) => r.stderr).join('\n'),
    );
    assert.deepEqual(masterLabelled(api, NS), ['redis-1']);
    assert.deepEqual(watch.doubles, [], 'at no write were two pods labelled master');
  });

  test(
    'arguments are not trusted: a to-address the Sentinels do not name is not labelled (stale: exit 0, nothing ' +
      'changed)',
    async () => {
      const rv = api.store.rv;
      const r = await promote(args(ips[2]));
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stderr, /a newer master, .* has the quorum/);
      assert.equal(api.getObject('pods', NS, 'redis-2')!.metadata.labels?.['redis-role'], 'slave');
      assert.equal(api.store.rv, rv, 'a stale run writes nothing');
    },
  );

  test('permanent failures exit 2, one line: argument count, bad address, unknown set, no such pod, 403', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['mymaster', 'leader'], {}, /expected 7 arguments/],
      [['mymaster', 'leader', 'start', ips[0], '6379', ips[1], 'port'], {}, /to-port "port" is not a TCP port/],
      [args(ips[1], 'othermaster'), {}, /unknown master set "othermaster"/],
      // Sentinel passes the name as it is: one that looks like an option is still the first positional argument.
      [args(ips[1], '-x'), {}, /unknown master set "-x"/],
      [
        args(ips[1]),
        { REDIS_POD_SELECTOR: 'app=nothing', SENTINEL_POD_SELECTOR: 'app=redis' },
        /no pod matching "app=nothing" has the address/,
      ],
    ];
    for (const [a, e, re] of cases) {
      const r = await promote(a, e);
      assert.equal(r.exitCode, 2, `${a.join(' ')}: ${r.stderr}`);
      const lines = String(r.stderr)
        .trim()
        .split('\n')
        .filter((l) => !/ INFO /.test(l));
      assert.equal(lines.length, 1, String(r.stderr));
      assert.match(lines[0], re);
    }
    const ro = await api.writeKubeconfig(root, { namespace: NS, token: 'readonly', file: 'ro-kubeconfig' });
    api.put('pods', {
      ...api.getObject('pods', NS, 'redis-0')!,
      metadata: { ...api.getObject('pods', NS, 'redis-0')!.metadata, labels: { app: 'redis', 'redis-role': 'master' } },
    });
    const oneLine = (stderr: string) => {
      const lines = stderr
        .trim()
        .split('\n')
        .filter((l) => !/ INFO /.test(l));
      assert.equal(lines.length, 1, stderr);
      return lines[0];
    };
    const forbidden = await promote(args(ips[1]), { KUBECONFIG: ro });
    assert.equal(forbidden.exitCode, 2, forbidden.stderr);
    // The verb and the resource to grant, and where.
    assert.match(
      oneLine(forbidden.stderr),
      new RegExp(
        'cannot (patch|create|update) resource "[a-z]+" in API group "[a-z0-9.]*" in the namespace "redis"; ' +
          "grant it in the launcher's Role",
      ),
    );
    const bad = await api.writeKubeconfig(root, { namespace: NS, token: 'not-a-token', file: 'bad-kubeconfig' });
    const unauthorized = await promote(args(ips[1]), { KUBECONFIG: bad });
    assert.equal(unauthorized.exitCode, 2, unauthorized.stderr);
    assert.match(
      oneLine(unauthorized.stderr),
      /refused the credentials \(401 Unauthorized\): check the ServiceAccount/,
    );
  });

  test('transient failures exit 1 so Sentinel retries: API server unreachable', async () => {
    const dead = join(root, 'dead-kubeconfig');
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await writeFile(dead, readFileSync(kubeconfig, 'utf8').replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${closed}`));
    const r = await promote(args(ips[1]), { KUBECONFIG: dead });
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /unreachable|ECONNREFUSED/);
  });

  test('no Sentinel confirms within its deadline -> exit 1 (retry), not 2', { timeout: 60_000 }, async () => {
    const r = await promote(args(ips[1]), { SENTINEL_PORT: '1' });
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /do not confirm/);
  });

  test('Sentinels that hang are not waited for once a majority has answered', { timeout: 60_000 }, async (t) => {
    // Two more Sentinel pods whose Sentinels accept connections and never answer (a partition that drops replies).
    const hung: Socket[] = [];
    const blackHoles = await Promise.all(
      [0, 1].map(async () => {
        const host = loopbackAddress();
        const server = createServer((sock) => hung.push(sock));
        await new Promise<void>((resolve) => server.listen(26379, host, resolve));
        return { host, server };
      }),
    );
    t.after(async () => {
      for (const sock of hung) sock.destroy();
      await Promise.all(blackHoles.map((b) => new Promise((resolve) => b.server.close(resolve))));
      for (const i of [3, 4]) api.deleteObject('pods', NS, `redis-${i}`);
    });
    blackHoles.forEach((b, k) => {
      api.put('pods', statefulSetPod({ sts: 'redis', ordinal: 3 + k, namespace: NS, labels: { app: 'redis' } }));
      setPodState(api, NS, `redis-${3 + k}`, { phase: 'Running', podIP: b.host, ready: true });
    });
    const pod = api.getObject('pods', NS, 'redis-1')!;
    api.put('pods', {
      ...pod,
      metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, 'redis-role': 'slave' } },
    });
    // Each hung Sentinel would hold a round for 20 s; three of five name redis-1, which is a majority.
    const t0 = Date.now();
    const r = await promote(args(ips[1]), { PROBE_TIMEOUT_MS: '20000' });
    const took = Date.now() - t0;
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(masterLabelled(api, NS), ['redis-1']);
    assert.ok(hung.length > 0, 'the hung Sentinels were asked');
    assert.ok(took < 15_000, `done without waiting out the hung Sentinels' 20 s (took ${took} ms)`);
  });
});
