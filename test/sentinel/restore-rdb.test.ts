// Restoring a set from an RDB backup, the standard way: every pod stopped, every data dir emptied, a dump.rdb
// (made by a plain redis-server, as from an RDB-only deployment or a BGSAVE backup) put into the master of
// record's data dir, every pod started. The master must serve every key of the backup, the replicas must copy
// them, and after a further restart of the whole set (the AOF is then what Redis loads) every key is still there.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { ask, loopbackAddress, startRedis } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const KEYS = 2000;
const ord = (name: string) => Number(name.split('-').pop());

/** A dump.rdb of KEYS keys, written by a redis-server with the stock persistence (appendonly no). */
async function backup(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rhl-backup-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const r = await startRedis({ host: loopbackAddress(), dir, conf: ['appendonly no', 'save 3600 1'] });
  const client = r.client();
  try {
    for (let i = 0; i < KEYS; i += 500) {
      await client.mset(...Array.from({ length: 500 }, (_, j) => [`restored:${i + j}`, String(i + j)]).flat());
    }
    await client.call('SHUTDOWN', 'SAVE').catch(() => {}); // the connection drops as Redis exits
  } finally {
    client.disconnect();
  }
  await r.exited;
  return join(dir, 'dump.rdb');
}

test('a set restored from an RDB file serves every key, on every pod, and keeps them over a restart', async (t) => {
  const rdb = await backup();
  const { c } = await testCluster(t, 'restore-rdb');
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  await c.stopAll();
  for (const i of c.ordinals) {
    const data = join(c.pod(i).dir, 'data');
    for (const f of await readdir(data)) await rm(join(data, f), { recursive: true, force: true });
  }
  await copyFile(rdb, join(c.pod(ord(master)).dir, 'data', 'dump.rdb'));

  await c.startAll();
  assert.equal(await c.converged('after the restore', 40_000), master, 'the master of record holds the backup');
  const sizes = async () => Promise.all(c.ordinals.map((i) => ask(c.pod(i).ip, 6379, 'DBSIZE')));
  assert.equal(await ask(c.pod(ord(master)).ip, 6379, 'DBSIZE'), KEYS, 'the master serves every key of the backup');
  await waitFor('every pod holds every key', async () => ((await sizes()).every((n) => n === KEYS) ? true : undefined));

  // The AOF is what Redis loads from now on: every key must survive a restart of the whole set.
  await waitFor('the AOF switched on, its rewrite done', async () => {
    const info = String(await ask(c.pod(ord(master)).ip, 6379, 'INFO', 'persistence'));
    return /aof_enabled:1/.test(info) && /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)
      ? true
      : undefined;
  });
  await c.stopAll();
  await c.startAll();
  await c.converged('after a further restart', 40_000);
  await waitFor('every pod holds every key after the restart', async () =>
    (await sizes()).every((n) => n === KEYS) ? true : undefined,
  );
});
