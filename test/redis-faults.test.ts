// Sentinel and Redis misbehaving under a running set, with the kubelet's probes and a client writing through the
// master Service (each write confirmed by WAIT 1):
//   - one Sentinel frozen for 3 s (as CPU throttling does; it enters TILT when it runs again): no failover, no
//     label moves, the master is not fenced (the other two still name it);
//   - the master's redis-server hanging for 4 s (SIGSTOP; Redis 7 refuses DEBUG SLEEP unless enabled), longer than
//     down-after: the Sentinels fail over; when it runs again it is a stale master and becomes a replica; never two
//     master labels; no confirmed write lost;
//   - a replica whose redis.conf and sentinel.conf were left corrupt by a previous run: both are written anew at
//     start and it rejoins.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { keptLog, testCluster, watchMasterLabels } from './support/cluster.ts';
import { ask } from './support/redis.ts';
import { waitFor } from './support/wait.ts';
import { ServiceWriter } from './support/writer.ts';

const ord = (name: string) => Number(name.split('-').pop());
const children = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

test('a frozen Sentinel, a hanging master, corrupt config files left behind: the set copes', async (t) => {
  const { lines: logged, log } = keptLog();
  const { c } = await testCluster(t, 'redis-faults', { probes: { timeScale: 0.5 }, log });
  const labels = watchMasterLabels(c);
  t.after(labels.stop);
  await c.startAll();
  const master = await c.settled('boot', 60_000);
  const writer = new ServiceWriter(c);
  writer.start();
  t.after(() => writer.stop());
  await waitFor('writes confirmed', () => writer.acked.length > 20, 20_000);

  // 1. The master pod's own Sentinel frozen for 3 s.
  const sentinelLauncher = c.pod(ord(master)).sentinel!.pid;
  const sentinel = children(sentinelLauncher).find((p) => comm(p) === 'redis-sentinel');
  assert.ok(sentinel, 'redis-sentinel runs under its launcher');
  process.kill(sentinel, 'SIGSTOP');
  const thaw = Date.now() + 3000;
  await waitFor('3 s frozen', () => (Date.now() >= thaw ? true : undefined), 10_000);
  process.kill(sentinel, 'SIGCONT');
  await waitFor(
    'the thawed Sentinel answers',
    async () => (await ask(c.pod(ord(master)).ip, 26379, 'PING')) === 'PONG',
  );
  assert.equal(await c.converged('after the frozen Sentinel', 30_000), master, 'no failover');
  assert.ok(!logged.some((l) => /fenced: /.test(l)), 'the master was not fenced: two Sentinels still named it');

  // 2. The master hangs for longer than down-after.
  const mip = c.pod(ord(master)).ip;
  const server = children(c.pod(ord(master)).redis!.pid).find((p) => comm(p) === 'redis-server');
  assert.ok(server, 'redis-server runs under its launcher');
  process.kill(server, 'SIGSTOP');
  const hungAt = Date.now();
  t.after(() => {
    try {
      process.kill(server, 'SIGCONT');
    } catch {
      /* gone */
    }
  });
  const next = await c.relabelledFrom(master, 30_000);
  const wake = Date.now() + Math.max(0, 4000 - (Date.now() - hungAt));
  await waitFor('4 s hung', () => (Date.now() >= wake ? true : undefined), 10_000);
  process.kill(server, 'SIGCONT');
  await waitFor(
    'the sleeper woke as a replica of the new master',
    async () => ((await ask(mip, 6379, 'ROLE')) as unknown[] | undefined)?.[0] === 'slave',
    30_000,
    100,
  );
  assert.equal(await c.converged('after the hang', 60_000), next);

  // 3. A replica restarted over corrupt config files left by its previous run.
  const replica = c.ordinals.find((i) => c.pod(i).name !== next)!;
  await c.stopPod(replica);
  for (const f of [
    join(c.pod(replica).dir, 'conf', 'redis.conf'),
    join(c.pod(replica).dir, 'sentinel', 'sentinel.conf'),
  ]) {
    writeFileSync(f, 'port nope\nsentinel monitor\n\u0000\u0001garbage');
  }
  await c.startPod(replica);
  await c.waitReady(replica, 60_000);
  assert.equal(await c.converged('after the corrupt files', 60_000), next);

  await writer.stop();
  await writer.assertAllPresent();
  assert.deepEqual(labels.doubles, [], 'never two pods labelled master');
});

test('a REDIS_CONF_DIR that cannot be written: one line naming it, exit 1, nothing written, no label', async (t) => {
  const { c, root } = await testCluster(t, 'conf-dir');
  // The pod's conf dir is a file (as a read-only or wrongly mounted volume would refuse writes).
  mkdirSync(join(root, 'redis-0'), { recursive: true });
  writeFileSync(join(root, 'redis-0', 'conf'), 'not a directory\n');
  const p = await c.startPod(0);
  const r = await p.redis!.exited;
  assert.equal(r.exitCode, 1);
  const last = p.redis!.tail.filter((l) => l.startsWith('launcher:'));
  assert.equal(last.length, 1, p.redis!.tail.join('\n'));
  assert.match(last[0], /^launcher: cannot write .*\/redis-0\/conf\/redis\.conf \(REDIS_CONF_DIR\): E(EXIST|NOTDIR)/);
  assert.equal(readFileSync(join(root, 'redis-0', 'conf'), 'utf8'), 'not a directory\n', 'untouched');
  assert.equal(c.labels()['redis-0'], undefined, 'no label for a Redis that never started');
});
