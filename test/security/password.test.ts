// With REDIS_PASSWORD_FILE: Redis requires the password, replicas and Sentinels authenticate, protected mode stays
// on; Sentinel requires it too (no SENTINEL command without AUTH: nobody can fail over, reset or re-point it),
// the launchers, promote and a Sentinel-aware client authenticate to it; and the secret appears in no process's
// argv (also during a failover, when promote runs), no log line of any process and no Event; the generated files
// stay 0600 after Redis and Sentinel rewrite them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { LocalCluster } from '../support/cluster.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const SECRET = 'Sup3r-s3cret-pw';

test('a password-protected set boots, replicates, is monitored, and never shows the secret', async (t) => {
  const api = await new KubeStandin().start();
  const root = await mkdtemp(join(tmpdir(), 'rhl-password-'));
  t.after(async () => {
    await stopAll();
    await api.close();
    await rm(root, { recursive: true, force: true });
  });
  await writeFile(join(root, 'password'), SECRET + '\n', { mode: 0o600 });
  const logged: string[] = [];
  const c = await new LocalCluster({
    api,
    root,
    env: { REDIS_PASSWORD_FILE: join(root, 'password'), SENTINEL_QUORUM: '1' },
    log: (pod, line) => logged.push(`[${pod}] ${line}`),
  }).init();
  await c.startPod(0);
  await c.startPod(1);
  const client = (i: number, password?: string) => {
    const r = new Redis({
      host: c.pod(i).ip,
      port: 6379,
      password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on('error', () => {});
    return r;
  };
  await waitFor(
    'redis-0 labelled master, redis-1 slave',
    () => c.labels()['redis-0'] === 'master' && c.labels()['redis-1'] === 'slave',
    30_000,
  );
  const m = client(0, SECRET);
  await m.connect();
  await waitFor(
    'replica authenticated and online',
    async () => ((await m.call('ROLE')) as unknown[])[2] && ((await m.call('ROLE')) as unknown[][])[2].length === 1,
    20_000,
    100,
  );
  await m.set('k', 'v');
  assert.equal(Number(await m.call('WAIT', '1', '5000')), 1);
  m.disconnect();

  const raw = (port: number, command: string) =>
    new Promise<string>((resolve, reject) => {
      const sock = createConnection({ host: c.pod(0).ip, port }, () => sock.write(`${command}\r\n`));
      sock.once('data', (d) => {
        resolve(d.toString());
        sock.destroy();
      });
      sock.once('error', reject);
    });
  assert.match(await raw(6379, 'GET k'), /^-NOAUTH/, 'Redis refuses clients without the password');
  for (const cmd of [
    'SENTINEL FAILOVER mymaster',
    'SENTINEL RESET *',
    'SENTINEL REMOVE mymaster',
    'SENTINEL MASTERS',
  ]) {
    assert.match(await raw(26379, cmd), /^-NOAUTH/, `Sentinel refuses ${cmd} without the password`);
  }
  const sentinel = new Redis({ host: c.pod(0).ip, port: 26379, password: SECRET, lazyConnect: true });
  sentinel.on('error', () => {});
  t.after(() => sentinel.disconnect());
  await sentinel.connect();
  const asked = (...cmd: string[]) => sentinel.call(cmd[0], ...cmd.slice(1)).catch(() => undefined);
  // A Sentinel-aware client, as an application would connect.
  const app = new Redis({
    sentinels: [0, 1].map((i) => ({ host: c.pod(i).ip, port: 26379 })),
    name: 'mymaster',
    sentinelPassword: SECRET,
    password: SECRET,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  app.on('error', () => {});
  t.after(() => app.disconnect());
  await app.connect();
  await app.set('through-sentinel', '1');
  assert.equal(await app.get('through-sentinel'), '1', 'a Sentinel-aware client with sentinelPassword writes');
  assert.equal(await ask(c.pod(0).ip, 6379, 'GET', 'k'), undefined, 'no answer without the password');

  await waitFor(
    'Sentinel monitors the authenticated master and sees the replica',
    async () => {
      const reps = (await asked('SENTINEL', 'REPLICAS', 'mymaster')) as string[][] | undefined;
      // ... its link to the master up, and its priority raised: Sentinel refuses to fail over to a replica still
      // syncing, and the launcher holds an empty replica at replica-priority 0 until its first sync is done
      // (NOGOODSLAVE either way; a loaded full run once asked before Sentinel had seen the priority raised).
      const field = (k: string) => reps?.[0]?.[reps[0].indexOf(k) + 1];
      return (
        reps?.length === 1 &&
        field('flags') === 'slave' &&
        field('master-link-status') === 'ok' &&
        field('slave-priority') !== '0'
      );
    },
    30_000,
    200,
  );
  const conf = readFileSync(join(c.pod(0).dir, 'conf', 'redis.conf'), 'utf8');
  assert.match(conf, /^protected-mode yes$/m);

  // argv of every process of both pods (launchers, redis-server, redis-sentinel), logs and Events
  const descendants = (pid: number): number[] => [pid, ...childrenOf(pid).flatMap(descendants)];
  for (const i of [0, 1]) {
    for (const proc of [c.pod(i).redis!, c.pod(i).sentinel!]) {
      for (const pid of descendants(proc.pid)) {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        assert.ok(!argv.includes(SECRET), `argv of ${pid}: ${argv.replace(/\0/g, ' ')}`);
      }
      assert.ok(!proc.tail.join('\n').includes(SECRET), `log of ${proc.name}`);
    }
  }
  assert.ok(!JSON.stringify(api.listObjects('events', c.ns)).includes(SECRET), 'Events');

  // A failover: Sentinel runs promote, rewrites its config, reconfigures both Redis (REPLICAOF + CONFIG REWRITE).
  const seen: string[] = [];
  let watching = true;
  t.after(() => (watching = false)); // also when an assertion below fails: the scan would keep the test alive
  const scan = (async () => {
    while (watching) {
      for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          if (argv.includes(SECRET)) seen.push(argv.replace(/\0/g, ' '));
        } catch {
          /* gone */
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  assert.equal(await sentinel.call('SENTINEL', 'FAILOVER', 'mymaster').catch((e: Error) => e.message), 'OK');
  await waitFor('redis-1 labelled master after the failover', () => c.labels()['redis-1'] === 'master', 30_000);
  await waitFor(
    'redis-0 a replica again',
    async () => {
      const r = client(0, SECRET);
      try {
        await r.connect();
        return ((await r.call('ROLE')) as unknown[])[0] === 'slave';
      } finally {
        r.disconnect();
      }
    },
    30_000,
    200,
  );
  watching = false;
  await scan;
  await waitFor(
    "the Sentinel launchers' +switch-master listener (authenticated) relabelled at once",
    () => logged.some((l) => /^\[redis-\d\/sentinel\] .*\+switch-master .* relabelling/.test(l)),
    5000,
  );
  assert.deepEqual(seen, [], 'no argv carried the password during the failover');
  assert.ok(logged.length > 50, 'every log line was captured');
  assert.deepEqual(
    logged.filter((l) => l.includes(SECRET)),
    [],
    'no log line of any launcher, redis-server or redis-sentinel',
  );
  for (const i of [0, 1]) {
    for (const f of [join(c.pod(i).dir, 'conf', 'redis.conf'), join(c.pod(i).dir, 'sentinel', 'sentinel.conf')]) {
      assert.equal((statSync(f).mode & 0o777).toString(8), '600', `${f} after the rewrites`);
    }
  }
  assert.ok(
    readFileSync(join(c.pod(1).dir, 'sentinel', 'sentinel.conf'), 'utf8').includes('# Generated by CONFIG REWRITE'),
    'Sentinel rewrote its file (its config flush), and the mode held',
  );
});

/** Direct children of a PID, from /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
