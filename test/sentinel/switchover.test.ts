// `launcher switchover` with real processes: refusals with their reasons (nothing changed), then a handover to a
// chosen replica that Sentinel would not pick by itself, under continuous WAIT-acknowledged writes and a client
// that keeps its connection to the old master and writes without WAIT: no acknowledged write lost, Sentinels, ROLE
// and labels agree on the target, replica priorities restored.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { REPO, testCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { Network } from '../support/netns.ts';
import { waitFor } from '../support/wait.ts';
import { LabelWriter, missingKeys, PinnedWriter } from '../support/writer.ts';

test('switchover: refuses what is unsafe; hands over to the chosen replica, restores priorities', async (t) => {
  const { c } = await testCluster(t, 'switchover');
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const ord = (name: string) => Number(name.split('-').pop());
  const replicas = c.ordinals.filter((i) => i !== ord(master)).map((i) => c.pod(i));
  const run = (...args: string[]) =>
    execa(process.execPath, [join(REPO, 'bin/launcher'), 'switchover', ...args], {
      env: { ...c.env(replicas[0]), REDIS_CONF_DIR: join(replicas[0].dir, 'conf') },
      reject: false,
      timeout: 90_000,
    });

  const noSuch = await run('--to', 'redis-9');
  assert.deepEqual(
    [noSuch.exitCode, String(noSuch.stdout)],
    [2, 'switchover refused: no live pod of the set is named redis-9'],
  );
  const already = await run('--to', master);
  assert.equal(already.exitCode, 2);
  assert.match(String(already.stdout), new RegExp(`${master} is the master already`));
  // A replica that does not answer (its pod frozen) is not in sync.
  const frozen = replicas[1];
  frozen.redis?.signal('SIGSTOP');
  const notInSync = await run('--to', frozen.name);
  frozen.redis?.signal('SIGCONT');
  assert.equal(notInSync.exitCode, 2);
  assert.match(String(notInSync.stdout), new RegExp(`${frozen.name} is not in sync: it does not answer`));
  await c.converged('after the refusals', 30_000);
  assert.deepEqual(c.labelledMasters(), [master], 'a refusal changes nothing');
  // The thawed replica may resynchronise: a switchover now would be refused (rightly). Wait for every link.
  await waitFor('every replica linked', async () => {
    const roles = await Promise.all(replicas.map((p) => ask(p.ip, 6379, 'ROLE') as Promise<unknown[]>));
    return roles.every((r) => r?.[0] === 'slave' && r[3] === 'connected') ? true : undefined;
  });

  // Sentinel would pick the replica with the lower priority: make the other one the preferred one, and ask for
  // the first. The switchover must override Sentinel's choice for the duration only.
  const [target, preferred] = replicas;
  await ask(preferred.ip, 6379, 'CONFIG', 'SET', 'replica-priority', '10');
  const writer = new LabelWriter(c);
  writer.start();
  t.after(() => writer.stop());
  // A client that keeps its connection to the old master (kube-proxy keeps it) and counts a write acknowledged when
  // the old master answered OK: every such write must survive the switchover.
  const old = c.pod(ord(master));
  const pinned = new PinnedWriter(old.ip);
  pinned.start();
  t.after(() => pinned.stop());
  const started = Date.now();
  const r = await run('--to', target.name, '--wait');
  assert.equal(r.exitCode, 0, String(r.stdout) + String(r.stderr));
  assert.match(
    String(r.stdout),
    new RegExp(`^switched over from ${master} to ${target.name}: writes paused \\d+ ms; `),
  );
  assert.equal(await c.converged('after the switchover', 30_000), target.name);
  await writer.stop();
  await writer.assertAllPresent();
  assert.ok(writer.acked.length > 0);
  await waitFor('the old master is a replica', async () =>
    ((await ask(old.ip, 6379, 'ROLE')) as unknown[] | undefined)?.[0] === 'slave' ? true : undefined,
  );
  await pinned.stop();
  const acknowledged = pinned.ok.map((w) => w.key);
  assert.ok(acknowledged.length > 0, 'the pinned client wrote before the switchover');
  const lost = await missingKeys(target.ip, acknowledged);
  const at = (k: string) => pinned.ok.find((w) => w.key === k)!.at - started;
  if (lost.length) {
    const refusals = pinned.refusals.map((f) => [f.at - started, f.error]);
    t.diagnostic(`lost at ${lost.map(at).join(', ')} ms after the command started; ${String(r.stdout)}`);
    t.diagnostic(`the pinned client's refusals (ms, error): ${JSON.stringify(refusals)}`);
  }
  assert.deepEqual(
    lost.length,
    0,
    `${lost.length} of ${acknowledged.length} writes the old master acknowledged are missing on the new master`,
  );
  for (const [p, want] of [
    [preferred, '10'],
    [target, '100'],
  ] as const) {
    assert.deepEqual(await ask(p.ip, 6379, 'CONFIG', 'GET', 'replica-priority'), ['replica-priority', want]);
  }
  t.diagnostic(String(r.stdout).trim());
});

test(
  'switchover to a replica behind a slow link, lagging by over 1 MiB: refused with the lag, nothing changed',
  { skip: Network.unavailable() },
  async (t) => {
    const network = Network.create(t);
    const { c } = await testCluster(t, 'switchover-lag', { network });
    await c.startAll();
    const master = await c.converged('boot', 40_000);
    const m = c.pod(Number(master.split('-').pop()));
    const target = c.ordinals.map((i) => c.pod(i)).find((p) => p.name !== master)!;
    await waitFor(
      'the target linked',
      async () => ((await ask(target.ip, 6379, 'ROLE')) as unknown[])?.[3] === 'connected',
    );
    // 256 kbit/s into the target; the master takes ~4 MiB at once: the target falls behind and stays behind.
    network.slow(target.host!, 256, 50);
    const value = 'x'.repeat(64 * 1024);
    for (let k = 0; k < 64; k++) await ask(m.ip, 6379, 'SET', `big:${k}`, value);
    const r = await execa(process.execPath, [join(REPO, 'bin/launcher'), 'switchover', '--to', target.name], {
      env: { ...c.env(target), REDIS_CONF_DIR: join(target.dir, 'conf') },
      reject: false,
      timeout: 60_000,
    });
    assert.equal(r.exitCode, 2, String(r.stdout) + String(r.stderr));
    assert.match(String(r.stdout), new RegExp(`${target.name} is not in sync: it lags by \\d+ bytes`));
    network.heal();
    assert.deepEqual(c.labelledMasters(), [master], 'a refusal changes nothing');
  },
);

test(
  'switchover whose target stops receiving the stream once writes are paused: aborted, nothing changed, no write lost',
  { skip: Network.unavailable() },
  async (t) => {
    const network = Network.create(t);
    const { c } = await testCluster(t, 'switchover-abort', { network });
    await c.startAll();
    const master = await c.converged('boot', 40_000);
    const m = c.pod(Number(master.split('-').pop()));
    const [target, other] = c.ordinals.map((i) => c.pod(i)).filter((p) => p.name !== master);
    await waitFor('every replica linked', async () => {
      const roles = await Promise.all([target, other].map((p) => ask(p.ip, 6379, 'ROLE') as Promise<unknown[]>));
      return roles.every((r) => r?.[0] === 'slave' && r[3] === 'connected') ? true : undefined;
    });
    const pinned = new PinnedWriter(m.ip);
    pinned.start();
    t.after(() => pinned.stop());
    await waitFor('writes flowing', () => (pinned.ok.length >= 10 ? true : undefined));
    // From now on the target receives nothing more from the master (its link still says connected, as a silent
    // loss does until repl-timeout, and it lags by far less than the 1 MiB the switchover allows): it cannot have
    // caught up once writes are paused. (Cutting once the switchover had started raced with it: the switchover
    // could pause and find the target caught up before the cut, and rightly went on.)
    network.cut(m.host!, target.host!);
    const r = await execa(process.execPath, [join(REPO, 'bin/launcher'), 'switchover', '--to', target.name], {
      env: { ...c.env(other), REDIS_CONF_DIR: join(other.dir, 'conf') },
      reject: false,
      timeout: 60_000,
    });
    network.heal();
    assert.equal(r.exitCode, 1, String(r.stdout) + String(r.stderr));
    assert.match(
      String(r.stdout),
      new RegExp(`switchover failed: ${target.name} did not catch up with ${master} within \\d+ ms`),
    );
    // Nothing changed: the same master, writes go on there, priorities restored.
    const since = Date.now();
    await waitFor('a write acknowledged after the abort', async () =>
      pinned.ok.some((w) => w.at > since) ? true : undefined,
    );
    assert.equal(await c.converged('after the abort', 30_000), master);
    assert.deepEqual(await ask(other.ip, 6379, 'CONFIG', 'GET', 'replica-priority'), ['replica-priority', '100']);
    await pinned.stop();
    const lost = await missingKeys(
      m.ip,
      pinned.ok.map((w) => w.key),
    );
    assert.equal(lost.length, 0, `${lost.length} acknowledged writes missing on ${master}`);
  },
);
