// What "has data" means, judged by what Redis will load from real redis-server files: a Redis that merely started
// (its AOF directory with an empty base and incr file, or an RDB with no key) has no data; one that holds a key has.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dataDirBytes, dataDirHasData, dataSource } from '../../src/redis/data-dir.ts';
import { stopAll } from '../support/processes.ts';
import { loopbackAddress, startRedis } from '../support/redis.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'rhl-datadir-'));
});
after(async () => {
  await stopAll();
  await rm(root, { recursive: true, force: true });
});

async function redisIn(dir: string, conf: string[], writes: (r: any) => Promise<unknown>) {
  const host = loopbackAddress();
  const r = await startRedis({ host, dir, conf });
  const client = r.client();
  try {
    await writes(client);
    await client.call('SHUTDOWN', 'SAVE').catch(() => {}); // the connection drops as Redis exits
  } finally {
    client.disconnect();
  }
  await r.exited;
}

test('AOF (appendonly yes, as the launcher runs Redis): started only -> no data; one key -> data', async () => {
  const empty = join(root, 'aof-empty');
  await redisIn(empty, ['appendonly yes'], async () => {});
  assert.equal(await dataDirHasData(empty), false, 'an appendonlydir with an empty base and incr file is no data');
  const one = join(root, 'aof-one');
  await redisIn(one, ['appendonly yes'], (c: any) => c.set('k', 'v'));
  assert.equal(await dataDirHasData(one), true);
});

test('RDB: a snapshot with no key is no data; with a key it is', async () => {
  const empty = join(root, 'rdb-empty');
  await redisIn(empty, ['appendonly no', 'save 3600 1'], async () => {});
  assert.equal(await dataDirHasData(empty), false);
  const one = join(root, 'rdb-one');
  await redisIn(one, ['appendonly no', 'save 3600 1'], (c: any) => c.set('k', 'v'));
  assert.equal(await dataDirHasData(one), true);
  assert.equal(await dataDirHasData(join(root, 'nothing-here')), false);
});

test('what Redis will load: the AOF when it holds data, else a dump.rdb holding keys (AOF off)', async () => {
  // A replica that died after its full sync (dump.rdb holds the master's keys) before the AOF rewrite: its AOF is
  // the empty one Redis made when it first started. Redis with appendonly yes would load that empty AOF.
  const synced = join(root, 'synced-no-rewrite');
  await redisIn(synced, ['appendonly yes'], async () => {});
  await redisIn(synced, ['appendonly no', 'save 3600 1'], (c: any) => c.set('k', 'v'));
  assert.equal(await dataSource(synced), 'rdb');
  assert.ok((await dataDirBytes(synced)) > 0);
  // An AOF holding data is what Redis loads, whatever dump.rdb holds.
  const both = join(root, 'aof-and-rdb');
  await redisIn(both, ['appendonly yes', 'save 3600 1'], (c: any) => c.set('k', 'v'));
  assert.equal(await dataSource(both), 'aof');
  assert.equal(await dataSource(join(root, 'aof-empty')), 'none');
  assert.equal(await dataSource(join(root, 'nothing-here')), 'none');
  assert.equal(await dataDirBytes(join(root, 'nothing-here')), 0);
});
