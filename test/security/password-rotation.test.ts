// Password rotation without a restart: the mounted password file changes in place while a client writes (each
// write confirmed by WAIT 1) over a connection opened with the old password. Every Redis and Sentinel accepts both
// passwords, then every launcher switches (its connections, masterauth, Sentinel's auth-pass and sentinel-pass),
// and after REDIS_PASSWORD_GRACE_MS the old one is refused. No replica resyncs, the client is never cut off, no
// confirmed write is lost, and a failover afterwards works with the new password only.
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { keptLog, testCluster } from '../support/cluster.ts';
import { askWith } from '../support/redis.ts';
import { rotationStep } from '../../src/runtime/password-rotation.ts';
import { waitFor } from '../support/wait.ts';
import { ClientWriter } from '../support/writer.ts';

const OLD = 'old-Secret-1';
const NEW = 'new-Secret-2';
const ord = (name: string) => Number(name.split('-').pop());

test('password rotation under writes: both accepted, then the new one only; no resync, nothing lost', async (t) => {
  let current = OLD;
  let file = '';
  const { lines: logged, log } = keptLog();
  const { c } = await testCluster(t, 'pw-rotation', async (root) => {
    file = join(root, 'password');
    writeFileSync(file, `${OLD}\n`, { mode: 0o600 });
    return { env: { REDIS_PASSWORD_FILE: file, REDIS_PASSWORD_GRACE_MS: '4000' }, password: () => current, log };
  });
  await c.startAll();
  const master = await c.settled('boot with the old password', 60_000);
  const mip = c.pod(ord(master)).ip;
  const pong = async (host: string, port: number, password: string) =>
    (await askWith({ password }, host, port, 'PING')) === 'PONG';

  const w = new Redis({ host: mip, port: 6379, password: OLD, lazyConnect: true, retryStrategy: () => null });
  w.on('error', () => {});
  t.after(() => w.disconnect());
  await w.connect();
  const syncs = async () => /sync_full:(\d+)/.exec(String(await w.info('stats')))?.[1];
  const before = await syncs();
  const writer = new ClientWriter(w);
  t.after(() => writer.stop());
  const { acked, failed } = writer;
  await waitFor('writes confirmed', () => acked.length > 20, 20_000);

  // The kubelet replaces the file (atomically, as its projection does).
  writeFileSync(`${file}.tmp`, `${NEW}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  const pods = c.ordinals.map((i) => c.pod(i).ip);
  await waitFor(
    'every Redis and Sentinel accepts the new password (and still the old one)',
    async () => {
      for (const ip of pods) {
        for (const port of [6379, 26379]) {
          if (!(await pong(ip, port, NEW)) || !(await pong(ip, port, OLD))) return false;
        }
      }
      return true;
    },
    20_000,
  );
  const switched = (l: string) => /password rotation.*: every pod accepts the new password: switching to it/.test(l);
  await waitFor('every launcher switched', () => logged.filter(switched).length === 6, 20_000);
  current = NEW;
  await waitFor(
    'after the grace period the old password is refused everywhere',
    async () => {
      for (const ip of pods) for (const port of [6379, 26379]) if (await pong(ip, port, OLD)) return false;
      return true;
    },
    20_000,
  );
  for (const ip of pods) for (const port of [6379, 26379]) assert.ok(await pong(ip, port, NEW), `${ip}:${port}`);
  const after = acked.length;
  await waitFor('the client opened with the old password still writes', () => acked.length > after + 20, 10_000);
  assert.equal(await syncs(), before, 'no replica resynced: the replication links were kept');
  assert.match(String(await w.info('replication')), /connected_slaves:2/);
  assert.deepEqual(failed, [], 'the client was never cut off');
  await writer.stop();

  // A failover with the new password only: Sentinel authenticates to Redis and to its peers with it.
  await c.killPod(ord(master));
  await c.relabelledFrom(master, 30_000, 'promote relabelled another pod');
  await c.recreatePod(ord(master), 'kill');
  // Whichever pod the Sentinels settled on (on a loaded machine they may fail over once more: see the TLS test).
  const next = await c.converged('the old master back, with the new password', 60_000);
  const n = new Redis({ host: c.pod(ord(next)).ip, port: 6379, password: NEW, lazyConnect: true });
  n.on('error', () => {});
  t.after(() => n.disconnect());
  await n.connect();
  const values = await n.mget(...acked);
  assert.deepEqual(
    acked.filter((_, i) => values[i] === null),
    [],
    `all ${acked.length} confirmed writes`,
  );
});

test('rotationStep: start on a new password, switch once every pod accepts it, finish after the grace period', () => {
  assert.equal(rotationStep(undefined, 'a', 'a', false, 0, 1000).kind, 'none');
  assert.equal(rotationStep(undefined, 'a', undefined, false, 0, 1000).kind, 'none', 'the file mid-swap');
  assert.equal(rotationStep(undefined, 'a', 'b', false, 0, 1000).kind, 'start');
  const r = { old: 'a', next: 'b', phase: 'both' as const };
  assert.equal(rotationStep(r, 'a', 'b', false, 0, 1000).kind, 'none', 'a pod does not accept it yet');
  assert.equal(rotationStep(r, 'a', 'b', true, 0, 1000).kind, 'switch');
  const s = { old: 'a', next: 'b', phase: 'switched' as const, switchedAt: 10_000 };
  assert.match(rotationStep(s, 'b', 'b', true, 10_400, 1000).reason, /dropped in 600 ms/);
  assert.equal(rotationStep(s, 'b', 'b', true, 11_000, 1000).kind, 'finish');
});
