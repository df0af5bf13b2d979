// Least-privilege Redis users (REDIS_ACL_*_PASSWORD_FILE), on any engine build: replicas replicate as
// `replication`, Sentinel talks to Redis as `sentinel`, the launcher as `launcher`; the default user keeps the
// application's password. test/security/acl.test.ts runs it on Redis 7.0, `npm run compat` on every build (a newer
// Sentinel that sends a command the `sentinel` user may not run shows in ACL LOG).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { keptLog, testCluster } from './cluster.ts';
import type { EngineBuild } from './engines.ts';

const PW = {
  app: 'app-Secret-1',
  launcher: 'launcher-Secret-2',
  replication: 'repl-Secret-3',
  sentinel: 'snt-Secret-4',
};
const ord = (name: string) => Number(name.split('-').pop());

/**
 * Least-privilege users on one engine build: boot, a SIGTERM handover, the old master's return, no command denied,
 * NOPERM for what each must not do, no password in a log, an Event or (the launcher's) a config file. Returns the
 * handover's time (SIGTERM to another pod labelled master, ms).
 */
export async function aclScenario(t: TestContext, b: EngineBuild, name = 'acl'): Promise<{ handoverMs: number }> {
  const { lines: logged, log } = keptLog();
  const { c } = await testCluster(t, name, async (root) => {
    const env: Record<string, string> = {};
    for (const [k, f] of [
      ['app', 'REDIS_PASSWORD_FILE'],
      ['launcher', 'REDIS_ACL_LAUNCHER_PASSWORD_FILE'],
      ['replication', 'REDIS_ACL_REPLICATION_PASSWORD_FILE'],
      ['sentinel', 'REDIS_ACL_SENTINEL_PASSWORD_FILE'],
    ] as const) {
      await writeFile(join(root, k), `${PW[k]}\n`, { mode: 0o600 });
      env[f] = join(root, k);
    }
    return { env: { ...env, REDIS_SERVER_BIN: b.server }, password: PW.app, log };
  });
  const clients: Redis[] = [];
  t.after(() => clients.forEach((r) => r.disconnect()));
  const as = (i: number, username?: string, password = PW.app) => {
    const r = new Redis({
      host: c.pod(i).ip,
      port: 6379,
      username,
      password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    r.on('error', () => {});
    clients.push(r);
    return r;
  };
  await c.startAll();
  const master = await c.settled('boot with ACL users', 60_000);
  const m = as(ord(master));
  await m.set('k', 'v');
  assert.equal(Number(await m.call('WAIT', '2', '5000')), 2, 'replicas authenticated as `replication` and synced');
  const users = ((await m.call('CLIENT', 'LIST')) as string)
    .trim()
    .split('\n')
    .map((l) => `${/ user=(\S+)/.exec(l)?.[1]} ${/ flags=(\S+)/.exec(l)?.[1]}`);
  assert.equal(users.filter((u) => u === 'replication S').length, 2, `replica links: ${users.join(', ')}`);
  assert.ok(
    users.some((u) => u.startsWith('sentinel ')),
    `Sentinel connects as sentinel: ${users.join(', ')}`,
  );
  assert.ok(
    users.some((u) => u.startsWith('launcher ')),
    `the launcher connects as launcher: ${users.join(', ')}`,
  );

  // A handover on SIGTERM (the launcher pauses writes, Sentinel fails over), then the old master's return.
  const t0 = performance.now();
  const stopped = c.stopPod(ord(master));
  const next = await c.relabelledFrom(master, 30_000);
  const handoverMs = performance.now() - t0;
  await stopped;
  await c.startPod(ord(master));
  assert.equal(await c.converged('the old master back as a replica', 60_000), next);
  await Promise.all(c.ordinals.map((i) => c.waitReady(i, 60_000)));

  for (const i of c.ordinals) {
    const admin = as(i);
    const denied = (await admin.call('ACL', 'LOG')) as unknown[];
    assert.deepEqual(denied, [], `${c.pod(i).name}: no command of any user was denied`);
  }
  const n = ord(next);
  const nope = async (r: Redis, ...cmd: string[]) =>
    assert.match(
      String(await r.call(cmd[0], ...cmd.slice(1)).catch((e: Error) => e.message)),
      /^NOPERM/,
      cmd.join(' '),
    );
  for (const [user, password] of [
    ['launcher', PW.launcher],
    ['replication', PW.replication],
    ['sentinel', PW.sentinel],
  ]) {
    const r = as(n, user, password);
    await r.connect();
    for (const cmd of [['GET', 'k'], ['SET', 'k', 'x'], ['FLUSHALL'], ['KEYS', '*'], ['SHUTDOWN'], ['ACL', 'LIST']]) {
      await nope(r, ...cmd);
    }
  }
  assert.equal(await as(n).get('k'), 'v', 'the default user (the application) reads and writes');
  const events = JSON.stringify(c.api.listObjects('events', c.ns));
  for (const pw of Object.values(PW)) {
    assert.deepEqual(
      logged.filter((l) => l.includes(pw)),
      [],
      'no password in any launcher, Redis or Sentinel log line',
    );
    assert.ok(!events.includes(pw), 'no password in an Event');
  }
  for (const i of c.ordinals) {
    for (const f of [join(c.pod(i).dir, 'conf', 'redis.conf'), join(c.pod(i).dir, 'sentinel', 'sentinel.conf')]) {
      const text = readFileSync(f, 'utf8');
      assert.ok(!text.includes(PW.launcher), `${f}: the launcher's password only as its hash`);
    }
  }
  return { handoverMs };
}
