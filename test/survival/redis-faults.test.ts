// Sentinel and Redis misbehaving under a running set, with the kubelet's probes and a client writing through the
// master Service (each write confirmed by WAIT 1):
//   - one Sentinel frozen for 3 s (as CPU throttling does; it enters TILT when it runs again): no failover, no
//     label moves, the master is not fenced (the other two still name it);
//   - the master's redis-server hanging for 4 s (SIGSTOP; Redis 7 refuses DEBUG SLEEP unless enabled), longer than
//     down-after: the Sentinels fail over; when it runs again it is a stale master and becomes a replica; never two
//     master labels; no confirmed write lost;
//   - a replica whose redis.conf and sentinel.conf were left corrupt by a previous run: both are written anew at
//     start and it rejoins;
//   - a replica whose AOF has a bad command in its middle: redis-server refuses it, the launcher says so in one
//     line, moves the AOF aside and exits; the kubelet's restart resyncs it from the master.
//   - every Sentinel frozen at once (the master's own sidecar too): the master is neither fenced nor unready while
//     its replicas follow it; writes go on.
// And a master with a corrupt AOF: one line with the fix, its data untouched.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { keptLog, testCluster, watchMasterLabels } from '../support/cluster.ts';
import { ask, connect, corruptAof } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';
import { ServiceWriter } from '../support/writer.ts';

const ord = (name: string) => Number(name.split('-').pop());
const children = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

test('a frozen Sentinel, a hanging master, corrupt files, every Sentinel frozen: the set copes', async (t) => {
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

  // 4. A replica whose AOF is corrupt.
  const other = c.ordinals.find((i) => c.pod(i).name !== next && i !== replica)!;
  const data = join(c.pod(other).dir, 'data');
  const incrSize = () =>
    readdirSync(join(data, 'appendonlydir'))
      .filter((f) => f.endsWith('.incr.aof'))
      .reduce((n, f) => n + statSync(join(data, 'appendonlydir', f)).size, 0);
  await waitFor('the replica AOF holds commands', () => incrSize() > 4000, 30_000);
  await c.stopPod(other);
  const bad = corruptAof(data);
  await c.startPod(other);
  await waitFor(
    'the launcher named the corrupt AOF',
    () => logged.find((l) => l.startsWith(`[${c.pod(other).name}]`) && /cannot load its AOF/.test(l)),
    30_000,
  );
  await c.waitReady(other, 90_000);
  const said = logged.find((l) => /cannot load its AOF/.test(l))!;
  assert.match(said, new RegExp(`${bad} is valid up to byte \\d+ of \\d+\\. This pod starts as a replica of `));
  const aside = /moved aside to (\S+\/corrupt-[\dT-]+Z) \(kept: .*\); the next start resyncs; exiting$/.exec(said)?.[1];
  assert.ok(aside, said);
  assert.ok(existsSync(join(aside, 'appendonlydir', bad)), 'the corrupt copy is kept');
  assert.ok(
    c.api.listObjects('events', c.ns).some((e) => e.reason === 'CorruptAOF' && e.type === 'Warning'),
    'a Warning Event says so',
  );
  assert.equal(await c.converged('after the corrupt AOF', 60_000), next);

  // 5. Every Sentinel unreachable for 4 s (all frozen, the master's own sidecar too): nobody can elect another
  // master, its replicas still follow it: it stays Ready and keeps taking writes, and is not fenced.
  const fencedBefore = logged.filter((l) => /fenced: /.test(l)).length;
  const frozen = c.ordinals.map((i) => children(c.pod(i).sentinel!.pid).find((p) => comm(p) === 'redis-sentinel')!);
  t.after(() => {
    for (const p of frozen) {
      try {
        process.kill(p, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
  });
  for (const p of frozen) process.kill(p, 'SIGSTOP');
  const outage = Date.now();
  await waitFor('4 s without Sentinels', () => (Date.now() - outage >= 4000 ? true : undefined), 10_000);
  const during = writer.acked.filter((a) => a.at >= outage + 2500).length;
  for (const p of frozen) process.kill(p, 'SIGCONT');
  assert.deepEqual(logged.filter((l) => /fenced: /.test(l)).slice(fencedBefore), [], 'not fenced');
  assert.ok(during > 0, "writes confirmed through the master Service in the outage's last 1.5 s");
  assert.equal(await c.converged('after the Sentinels came back', 60_000), next);

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

test('a master whose AOF is corrupt: one line with the fix, exit 1, its data untouched', async (t) => {
  const { c } = await testCluster(t, 'corrupt-aof');
  await c.startAll([0]);
  const m = c.pod(0).name;
  await waitFor('labelled master', () => c.labels()[m] === 'master', 30_000);
  const client = connect(c.pod(0).ip, 6379);
  for (let i = 0; i < 300; i++) await client.set(`k${i}`, `v${i}`);
  client.disconnect();
  await c.stopPod(0);
  const data = join(c.pod(0).dir, 'data');
  corruptAof(data);
  const before = readdirSync(join(data, 'appendonlydir')).map((f) => readFileSync(join(data, 'appendonlydir', f)));
  const p = await c.startPod(0);
  const r = await p.redis!.exited;
  assert.equal(r.exitCode, 1);
  const said = p.redis!.tail.filter((l) => /cannot load its AOF/.test(l));
  assert.equal(said.length, 1, p.redis!.tail.join('\n'));
  assert.match(said[0], /to start as master, so its data is kept as it is: .* redis-check-aof --fix \S+manifest /);
  const after = readdirSync(join(data, 'appendonlydir')).map((f) => readFileSync(join(data, 'appendonlydir', f)));
  assert.deepEqual(after, before, 'the AOF is untouched');
});
