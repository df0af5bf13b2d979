// The guard between engines: a replica is never pointed at a master whose RDB it cannot load, because a replica
// empties its data before it finds that out. A set on Valkey 8.0 (RDB 11) with one replica rolled back to Redis
// 7.0 (which loads RDB up to 10): that pod refuses to start as a replica (exit 1, one line, an IncompatibleMaster
// Warning Event) and its data dir is left as it was; rolled forward again, it rejoins with its keys.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { VALKEY_80, valkeyMissing } from '../support/engines.ts';
import { connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const ord = (name: string) => Number(name.split('-').pop());

/** The files of a data dir's AOF and their sizes: what "left alone" is checked against. */
async function aofFiles(dir: string): Promise<Record<string, number>> {
  const aof = join(dir, 'data', 'appendonlydir');
  const names = await readdir(aof);
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, (await stat(join(aof, n))).size] as const)));
}

test(
  'engines: a replica rolled back to Redis 7.0 under a Valkey 8.0 master refuses to follow it, data untouched',
  { skip: valkeyMissing() },
  async (t) => {
    const { api, c } = await testCluster(t, 'engine-guard', { env: { REDIS_SERVER_BIN: VALKEY_80.server } });
    await c.startAll([0, 1, 2]);
    // Settled: every pod Ready, a replica only once synced (its first full sync waits repl-diskless-sync-delay, 5 s).
    const master = await c.settled('3 Valkey pods', 60_000);
    const m = connect(c.pod(ord(master)).ip, 6379);
    t.after(() => m.disconnect());
    const p = m.pipeline();
    for (let k = 0; k < 1000; k++) p.set(`k:${k}`, String(k));
    await p.exec();
    assert.ok(Number(await m.call('WAIT', '2', '5000')) >= 2, 'both replicas have the keys');
    const r = c.ordinals.find((i) => c.pod(i).name !== master)!;

    // Its Redis container rolled back to Redis 7.0 (the image's engine changed back).
    await c.stopPod(r);
    const before = await aofFiles(c.pod(r).dir);
    c.podEnv.set(r, {
      REDIS_SERVER_BIN: 'redis-server',
      REDIS_SENTINEL_BIN: join(dirname(VALKEY_80.server), 'valkey-sentinel'),
    });
    api.deleteObject('pods', c.ns, c.pod(r).name);
    const back = await c.startPod(r, { newIp: true });
    const exit = await back.redis!.exited;
    assert.equal(exit.exitCode, 1, 'the launcher exits 1 (the kubelet restarts it; nothing was started)');
    const line = back.redis!.tail.find((l) => /refusing to replicate/.test(l));
    assert.match(
      line ?? back.redis!.tail.join('\n'),
      /refusing to replicate [\d.]+:6379: valkey 8\.0\.\d+ writes RDB version 11, which redis 7\.0\.\d+ cannot load/,
    );
    const event = await waitFor(
      'an IncompatibleMaster Event',
      () => api.listObjects('events', c.ns).find((e) => e.reason === 'IncompatibleMaster'),
      10_000,
    );
    assert.equal(event.type, 'Warning');
    assert.equal(event.involvedObject?.name, c.pod(r).name);
    assert.deepEqual(await aofFiles(c.pod(r).dir), before, 'its data dir is left as it was');

    // Rolled forward again: it follows the master with its keys.
    await c.stopPod(r);
    c.podEnv.delete(r);
    api.deleteObject('pods', c.ns, c.pod(r).name);
    await c.startPod(r, { newIp: true });
    await waitFor(
      `${c.pod(r).name} a replica with every key`,
      async () => {
        const x = connect(c.pod(r).ip, 6379);
        try {
          return Number(await x.call('DBSIZE')) === 1000 && /master_link_status:up/.test(String(await x.call('INFO')));
        } catch {
          return false;
        } finally {
          x.disconnect();
        }
      },
      60_000,
      250,
    );
  },
);
