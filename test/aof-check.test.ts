// redis-check-aof's verdict on real AOF files: a valid one is valid; one with a bad command in the middle names
// the file and the byte up to which it is valid; the replica's copy is moved aside, not deleted.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { aofVerdict, checkAof, corruptMasterLine, setAsideCorruptAof } from '../src/aof-check.ts';
import { stopAll } from './support/processes.ts';
import { corruptAof, loopbackAddress, startRedis } from './support/redis.ts';
import { tempDir } from './support/tmp.ts';

test('a corrupt AOF is named with the byte it is valid up to; a valid one passes; set aside keeps it', async (t) => {
  t.after(stopAll);
  const dir = join(await tempDir(t, 'rhl-aof-'), 'data');
  const r = await startRedis({ host: loopbackAddress(), dir, conf: ['appendonly yes'] });
  const client = r.client();
  for (let i = 0; i < 200; i++) await client.set(`k${i}`, `v${i}`);
  await client.call('SHUTDOWN', 'NOSAVE').catch(() => {});
  client.disconnect();
  await r.exited;
  assert.deepEqual(await checkAof(dir, 'redis-server').then((v) => v?.valid), true);

  const file = corruptAof(dir);
  const v = await checkAof(dir, '/usr/bin/redis-server');
  assert.ok(v && !v.valid, 'not valid');
  assert.equal(v.file, file);
  assert.ok(v.okUpTo! > 0 && v.okUpTo! < v.size!, `valid up to ${v.okUpTo} of ${v.size}`);
  assert.equal(v.target, join(dir, 'appendonlydir', 'appendonly.aof.manifest'));
  assert.match(corruptMasterLine(v), /--fix .*appendonly\.aof\.manifest/);
  assert.doesNotMatch(corruptMasterLine(v), /\n/);

  const aside = await setAsideCorruptAof(v.moves);
  assert.equal(aside, join(dir, 'appendonlydir.corrupt'));
  assert.ok(existsSync(join(aside, file)) && !existsSync(join(dir, 'appendonlydir')), 'moved, not deleted');
  assert.equal(await checkAof(dir, 'redis-server'), undefined, 'no AOF left to check');
  assert.deepEqual(aofVerdict('garbage'), { valid: true }, 'output without a verdict is no corruption');
});
