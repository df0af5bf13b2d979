// Real AOF files: Redis's own line when it refuses one with a bad command in its middle (and none for a truncated
// tail, which it loads); redis-check-aof's verdict naming the file and the byte up to which it is valid; a
// replica's AOF and dump.rdb moved aside, kept, so that what is left says "no data".
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  aofLoadFailure,
  aofVerdict,
  checkAof,
  corruptMasterLine,
  setAsideCorruptAof,
  whatIsWrong,
} from '../../src/redis/aof-check.ts';
import { dataDirHasData } from '../../src/redis/data-dir.ts';
import { execa } from 'execa';
import { stopAll } from '../support/processes.ts';
import { corruptAof, loopbackAddress, startRedis } from '../support/redis.ts';
import { tempDir } from '../support/tmp.ts';

test('a corrupt AOF: Redis says so, the checker names the byte; set aside keeps AOF and dump.rdb', async (t) => {
  t.after(stopAll);
  const dir = join(await tempDir(t, 'rhl-aof-'), 'data');
  const r = await startRedis({ host: loopbackAddress(), dir, conf: ['appendonly yes'] });
  const client = r.client();
  for (let i = 0; i < 200; i++) await client.set(`k${i}`, `v${i}`);
  await client.call('SAVE');
  await client.call('SHUTDOWN', 'NOSAVE').catch(() => {});
  client.disconnect();
  await r.exited;
  assert.deepEqual(await checkAof(dir, 'redis-check-aof').then((v) => v?.valid), true);

  const file = corruptAof(dir);
  const sock = join(dir, '..', 'redis.sock');
  const load = await execa('redis-server', ['--port', '0', '--unixsocket', sock, '--dir', dir, '--appendonly', 'yes'], {
    reject: false,
    all: true,
    timeout: 10_000,
  });
  assert.equal(load.exitCode, 1, 'Redis refuses to load it');
  const said = aofLoadFailure((load.all ?? '').split('\n'));
  assert.match(said ?? '', new RegExp(`^Bad file format reading the append only file ${file}`));
  assert.equal(aofLoadFailure(['* Ready to accept connections', '# Truncating the AOF at offset 12']), undefined);

  const v = await checkAof(dir, '/usr/bin/redis-check-aof');
  assert.ok(v && !v.valid, 'not valid');
  assert.equal(v.file, file);
  assert.ok(v.okUpTo! > 0 && v.okUpTo! < v.size!, `valid up to ${v.okUpTo} of ${v.size}`);
  assert.equal(v.target, join(dir, 'appendonlydir', 'appendonly.aof.manifest'));
  const what = whatIsWrong(said!, v);
  assert.match(what, new RegExp(`^${file} is valid up to byte \\d+ of \\d+$`));
  assert.equal(whatIsWrong(said!, undefined), said, "without the checker: Redis's own line");
  const line = corruptMasterLine(what, v.target);
  assert.match(line, /--fix .*appendonly\.aof\.manifest/);
  assert.doesNotMatch(line, /\n/);

  const aside = await setAsideCorruptAof(dir, new Date('2026-12-01T10:00:00Z'));
  assert.equal(aside, join(dir, 'corrupt-2026-12-01T10-00-00-000Z'));
  assert.ok(existsSync(join(aside, 'appendonlydir', file)) && existsSync(join(aside, 'dump.rdb')), 'moved, kept');
  assert.ok(!existsSync(join(dir, 'appendonlydir')) && !existsSync(join(dir, 'dump.rdb')));
  assert.equal(await dataDirHasData(dir), false, 'what is left says "no data": the next start is a replica\'s resync');
  assert.equal(await checkAof(dir, 'redis-check-aof'), undefined, 'no AOF left to check');
  assert.deepEqual(aofVerdict('garbage'), { valid: true }, 'output without a verdict is no corruption');
});
