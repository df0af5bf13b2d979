// What "has data" means, judged by content with real redis-server files: a Redis that merely started (its AOF
// directory with an empty base and incr file, or an RDB with no key) has no data; one that holds a key has.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dataDirHasData } from '../../src/redis/data-dir.ts';
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
