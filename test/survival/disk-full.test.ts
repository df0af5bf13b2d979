// A replica whose data volume is full (a 1 MiB tmpfs under a 3 MiB dataset): every full sync fails writing the
// RDB. It must never be promoted: Sentinel's checks pass an empty replica that never had a link ("down since -1 s"),
// so when no synced replica is left it would promote it, and the old master would come back as its replica and be
// wiped by the resync. The launcher starts a pod with an empty data dir at replica-priority 0 until its first full
// sync. Also: the replica says why it is not Ready (the volume's free space), and tells it in a log line and Event.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { keptLog, testCluster } from '../support/cluster.ts';
import { ask, connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const skip = process.getuid?.() !== 0 ? 'mounting a small tmpfs as a full volume needs root (CI runs as root)' : false;
const KEYS = 3000;

test(
  'a replica on a full volume is never promoted, says why it is not Ready; the master keeps its data',
  { skip },
  async (t) => {
    const { lines: logged, log } = keptLog();
    // In full runs only (never alone), the test failed on a command rejected "Connection is closed" (the stack
    // holds only ioredis frames, so awaited or not cannot be told). The cause is not known. Every command of the
    // test is now awaited inside a poll on a fresh connection (ask) or tried again (the subscriptions), no client
    // runs ioredis' ready check, and an unawaited rejection is counted and reported with any heal the launchers
    // logged (node:test still fails the test on it).
    let closed = 0;
    const onRejection = (e: unknown) => {
      if ((e as Error)?.message !== 'Connection is closed.') throw e;
      closed++;
    };
    process.on('unhandledRejection', onRejection);
    t.after(() => {
      process.off('unhandledRejection', onRejection);
      if (closed) {
        const heals = logged.filter((l) => /split brain healed|CLIENT KILL|fenced/.test(l));
        t.diagnostic(
          `${closed} unawaited 'Connection is closed' of the test's clients; launcher: ${heals.join(' | ')}`,
        );
      }
    });
    const { c } = await testCluster(t, 'disk-full', { log });
    await c.startAll();
    const m = await c.settled('boot', 60_000);
    const mi = c.ordinals.find((i) => c.pod(i).name === m)!;
    const [x, y] = c.ordinals.filter((i) => i !== mi);
    // The dataset (again on a new connection if one was closed under it: seen twice in CI right after boot, not
    // explained; see the note).
    await waitFor(
      'a 3 MiB dataset on the master',
      async () => {
        // No ready check: its INFO, in flight when the server closes a fresh connection, rejects unhandled.
        const master = connect(c.pod(mi).ip, 6379, { enableReadyCheck: false });
        try {
          // MSET in awaited chunks, not one pipeline: a pipeline's own command promises reject unhandled when its
          // connection is closed under it, which failed the test instead of this check (twice in CI).
          for (let i = 0; i < KEYS; i += 500) {
            const kv = [];
            for (let j = i; j < Math.min(KEYS, i + 500); j++) kv.push(`k${j}`, randomBytes(512).toString('hex'));
            await master.call('MSET', ...kv);
          }
          return (await master.dbsize()) === KEYS;
        } catch {
          return false;
        } finally {
          master.disconnect();
        }
      },
      30_000,
    );

    // The replica comes back with an empty 1 MiB volume.
    await c.stopPod(x);
    const data = join(c.pod(x).dir, 'data');
    // The volume is mounted outside the test's root (its data dir a link to it): the root's removal never meets it.
    const volume = mkdtempSync(join(tmpdir(), 'rhl-full-volume-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', volume]);
    t.after(() => {
      execFileSync('umount', ['-l', volume]);
      rmSync(volume, { recursive: true, force: true });
    });
    rmSync(data, { recursive: true, force: true });
    symlinkSync(volume, data);
    await c.startPod(x);
    const xip = c.pod(x).ip;
    let readyz = '';
    await waitFor(
      'the full replica says why it is not Ready',
      async () => {
        const r = await fetch(`http://${xip}:8080/readyz`, { signal: AbortSignal.timeout(2000) }).catch(
          () => undefined,
        );
        readyz = r ? `${r.status} ${(await r.text()).trim()}` : '';
        return /^503 .*replica link is \w+.*; the data volume \S+ has [\d.]+ MiB free of 1\.0 MiB/.test(readyz);
      },
      30_000,
    );
    const priorityOf = async (ip: string) => {
      const reps = ((await ask(c.pod(y).ip, 26379, 'SENTINEL', 'REPLICAS', 'mymaster')) ?? []) as string[][];
      const r = reps
        .map((kv) => Object.fromEntries(kv.flatMap((v, i) => (i % 2 ? [] : [[v, kv[i + 1]]]))))
        .find((o) => o.ip === ip);
      return r?.['slave-priority'];
    };
    await waitFor(
      'the Sentinels see the empty replica at priority 0',
      async () => (await priorityOf(xip)) === '0',
      20_000,
    );
    await waitFor('the synced replica is a candidate', async () => (await priorityOf(c.pod(y).ip)) === '100', 20_000);

    // The synced replica's Redis dies, then the master's: only the empty replica is left.
    const events: string[] = [];
    // Every Sentinel's: the one elected leader publishes what its failover found.
    // A connection closed under a subscription is tried again on a new one (named in the error if it never works).
    for (const i of c.ordinals) {
      await waitFor(
        `subscribed to ${c.pod(i).name}'s Sentinel`,
        async () => {
          const sub = connect(c.pod(i).ip, 26379, { enableReadyCheck: false });
          t.after(() => sub.disconnect());
          sub.on('message', (ch: string) => events.push(ch));
          await sub.subscribe('+switch-master', '-failover-abort-no-good-slave', '+promoted-slave');
          return true;
        },
        10_000,
      );
    }
    c.pod(y).redis!.signal('SIGKILL');
    c.pod(mi).redis!.signal('SIGKILL');
    await waitFor(
      'the Sentinels promote no replica, or one',
      () => events.some((e) => e === '-failover-abort-no-good-slave' || e === '+switch-master'),
      30_000,
    );
    assert.deepEqual(
      events.filter((e) => e !== '-failover-abort-no-good-slave'),
      [],
      'nothing was promoted',
    );

    // The master comes back with its data; the set converges on it.
    await c.stopPod(mi);
    await c.stopPod(y);
    await c.startPod(mi);
    await c.startPod(y);
    assert.equal(await c.converged('after the master came back', 60_000), m);
    const keys = await waitFor(
      'the master answers DBSIZE',
      async () => Number(await ask(c.pod(mi).ip, 6379, 'DBSIZE')) || undefined,
      10_000,
    );
    assert.equal(keys, KEYS, 'every key kept');
    assert.deepEqual(
      events.filter((e) => e !== '-failover-abort-no-good-slave'),
      [],
      'never promoted',
    );
    await waitFor(
      'the full replica told why it does not sync',
      () =>
        logged.find((l) =>
          new RegExp(
            `^\\[${c.pod(x).name}\\] .*not been in sync with .* for \\d+ s .*has [\\d.]+ MiB free of 1\\.0 MiB`,
          ).test(l),
        ),
      40_000,
    );
    await waitFor(
      'a ReplicaNotSyncing Event on the full replica',
      () =>
        c.api
          .listObjects('events', c.ns)
          .some((e) => e.reason === 'ReplicaNotSyncing' && e.involvedObject.name === c.pod(x).name),
      5000,
    );
  },
);
