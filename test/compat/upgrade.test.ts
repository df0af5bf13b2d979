// Upgrades in place, as a rolling update does them, replica first (run by `npm run compat`): a Redis 7.0 set moved
// to Valkey 8.0 (Valkey writes RDB 11, which Redis 7.0 cannot load), and a Valkey 8.1 set moved to Valkey 9.1
// (RDB 80, which Valkey 8.1 cannot load). In the middle, a mixed set: while a replica on the old engine remains, a
// replica on the new one is no failover candidate (replica-priority 0; status says why), a switchover to it is
// refused, and a master killed then is replaced by the old-engine replica. Once only the master is left on the old
// engine, the new replicas are candidates again and its SIGTERM hands over to one of them (a switchover would not:
// the old master, left running on its engine, could not follow). Every key kept, also every write a client that
// keeps its connection to the master was answered OK for (it never waits for replicas).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { BUILDS, REDIS_70, VALKEY_80, type EngineBuild } from '../support/engines.ts';
import { ask, connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';
import { missingKeys, PinnedWriter } from '../support/writer.ts';

const ord = (name: string) => Number(name.split('-').pop());
const build = (label: string) => BUILDS.find((b) => b.label === label)!;
const PAIRS: [EngineBuild, EngineBuild][] = [
  [REDIS_70, VALKEY_80],
  [build('valkey 8.1 (trixie)'), build('valkey 9.1 (sid)')],
];
/** "valkey 9.1" of "valkey 9.1 (sid)". */
const named = (b: EngineBuild) => b.label.split(' (')[0];
const missing = (b: EngineBuild) =>
  b.fetch && !existsSync(b.server) ? `${b.label} is not unpacked (npm run compat does it)` : false;

for (const [from, to] of PAIRS) {
  const what = `upgrade: ${named(from)} to ${named(to)} replica first, through a mixed set, keeps every key`;
  test(what, { skip: missing(from) || missing(to) }, async (t) => {
    const { api, c } = await testCluster(t, 'upgrade', { env: { REDIS_SERVER_BIN: from.server } });
    const TO = { REDIS_SERVER_BIN: to.server };
    await c.startAll([0, 1, 2]);
    const first = await c.converged(`3 pods on ${named(from)}`, 60_000);
    // Both replicas past their first sync before the keys go in (WAIT then counts both).
    await waitFor('both replicas online', async () => {
      const info = String(await ask(c.pod(ord(first)).ip, 6379, 'INFO', 'replication'));
      return (info.match(/^slave\d+:.*state=online/gm) ?? []).length === 2 || undefined;
    });
    const m = connect(c.pod(ord(first)).ip, 6379);
    t.after(() => m.disconnect());
    const p = m.pipeline();
    for (let k = 0; k < 1000; k++) p.set(`k:${k}`, String(k));
    await p.exec();
    assert.equal(Number(await m.call('WAIT', '2', '10000')), 2, 'both replicas have the keys');
    m.disconnect();
    const [a, b] = c.ordinals.filter((i) => i !== ord(first));
    // As pods started by an earlier launcher, which did not publish their engine: their Redis is asked instead.
    for (const i of c.ordinals) {
      const pod = api.getObject('pods', c.ns, c.pod(i).name)!;
      delete pod.metadata.annotations?.['redis-ha-launcher/engine'];
      api.put('pods', pod);
    }
    const events = (reason: string, i: number) =>
      api.listObjects('events', c.ns).filter((e) => e.reason === reason && e.involvedObject?.name === c.pod(i).name);
    const priority = async (i: number) =>
      ((await ask(c.pod(i).ip, 6379, 'CONFIG', 'GET', 'replica-priority')) as string[] | undefined)?.[1];

    // One replica rolled to the new engine: the other replica could not follow it, so it is held out.
    c.podEnv.set(a, TO);
    await c.recreatePod(a, 'term');
    assert.equal(await c.converged(`a replica on ${named(to)} beside ${named(from)}`, 60_000), first);
    await waitFor(`${c.pod(a).name} held at replica-priority 0`, async () => (await priority(a)) === '0' || undefined);
    await waitFor(
      `${c.pod(a).name} in sync`,
      async () =>
        /master_link_status:up/.test(String(await ask(c.pod(a).ip, 6379, 'INFO', 'replication'))) || undefined,
      30_000,
    );
    await waitFor('a NotFailoverCandidate Event', () => events('NotFailoverCandidate', a).length || undefined);
    const st = await c.launcherCommand(ord(first), ['status']);
    assert.match(st.stdout, new RegExp(`${c.pod(a).name} .*no failover candidate.*${c.pod(b).name}`), st.stdout);
    // Nor may a switchover pick it (exit 2, nothing changed).
    const sw = await c.launcherCommand(ord(first), ['switchover', '--to', c.pod(a).name]);
    assert.equal(sw.exitCode, 2, sw.stdout + sw.stderr);
    assert.match(sw.stdout, new RegExp(`^switchover refused: ${c.pod(a).name} is no failover candidate while`));

    // The master killed now: Sentinel promotes the old-engine replica; the new one follows it.
    await c.killPod(ord(first));
    assert.equal(await c.relabelledFrom(first, 30_000), c.pod(b).name);
    await c.recreatePod(ord(first), 'kill');
    assert.equal(await c.converged(`the old master back (${named(from)})`, 60_000), c.pod(b).name);

    // Held again once the old master runs as a replica on its old engine.
    await waitFor(`${c.pod(a).name} held again`, async () => (await priority(a)) === '0' || undefined);

    // A client that keeps its connection to the master from here on, and never waits for replicas.
    const pinned = new PinnedWriter(c.pod(b).ip);
    pinned.start();
    t.after(() => pinned.stop());
    // The other replica rolled too: only the master is on the old engine, the new replicas are candidates again.
    c.podEnv.set(ord(first), TO);
    await c.recreatePod(ord(first), 'term');
    await c.converged(`two replicas on ${named(to)}`, 60_000);
    for (const i of [a, ord(first)]) {
      await waitFor(`${c.pod(i).name} a candidate again`, async () => (await priority(i)) === '100' || undefined);
    }
    // The master last: its SIGTERM hands over to a new replica; it comes back as a replica on the new engine.
    c.podEnv.set(b, TO);
    await c.recreatePod(b, 'term');
    const last = await c.converged(`all on ${named(to)}`, 60_000);
    assert.notEqual(last, c.pod(b).name);
    const evs = api.listObjects('events', c.ns).map((e) => `${e.involvedObject?.name}:${e.reason}`);
    assert.equal(events('HandedOver', b).length, 1, `the old master handed over before it stopped: ${evs.join(' ')}`);
    await pinned.stop();
    const st2 = await c.statusHealthy(ord(last), 30_000);
    for (const i of c.ordinals) {
      const row = st2.stdout.split('\n').find((l) => l.startsWith(`${c.pod(i).name} `));
      assert.ok(row?.includes(` ${named(to)}.`), st2.stdout);
    }
    assert.ok(pinned.ok.length > 0, 'the pinned client wrote');
    const keys = [...Array.from({ length: 1000 }, (_, k) => `k:${k}`), ...pinned.ok.map((w) => w.key)];
    assert.deepEqual(await missingKeys(c.pod(ord(last)).ip, keys), [], 'every key kept');
  });
}
