// askSentinelsToFailOver (src/sentinel/failover.ts), the one way the product asks Sentinel for a failover: only
// when enough Sentinels (max(quorum, majority)) name the master handing over, and only a Sentinel that names it.
// One that names another master would force a failover of that one (nothing paused it: its acknowledged writes
// lost), or of an old address (a forced failover needs no election). Found by a review; real redis-server and
// redis-sentinel.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { askSentinelsToFailOver } from '../../src/sentinel/failover.ts';
import { stopAll } from '../support/processes.ts';
import { ask, loopbackAddress, startRedis, startSentinel } from '../support/redis.ts';
import { tempDir } from '../support/tmp.ts';

test('a Sentinel that names another master is not asked to fail over', async (t) => {
  t.after(stopAll);
  const dir = await tempDir(t, 'rhl-ask-');
  const other = await startRedis({ host: loopbackAddress(), dir: join(dir, 'other') });
  const replica = await startRedis({
    host: loopbackAddress(),
    dir: join(dir, 'replica'),
    conf: [`replicaof ${other.host} ${other.port}`],
  });
  const s = await startSentinel({
    host: loopbackAddress(),
    dir: join(dir, 'sentinel'),
    master: { name: 'mymaster', host: other.host, port: other.port, quorum: 1 },
  });
  const sentinel = { host: s.host, port: s.port };
  const self = { host: loopbackAddress(), port: 6379 };
  const one = { among: [sentinel], need: 1 };
  const r = await askSentinelsToFailOver([sentinel], 'mymaster', [self], { timeoutMs: 2000 }, { among: [], need: 0 });
  assert.equal(r.asked, undefined);
  assert.deepEqual(r.refusals, [`${s.host}:${s.port}: names ${other.host}:${other.port}, not this master; not asked`]);
  const m = (await ask(s.host, s.port, 'SENTINEL', 'MASTER', 'mymaster')) as string[];
  assert.equal(m[m.indexOf('ip') + 1], other.host, 'no failover was started');
  assert.equal(await ask(replica.host, replica.port, 'ROLE').then((x) => (x as string[])[0]), 'slave');
  // The master it names: asked (Sentinel itself may refuse: a replica it has not discovered yet is no candidate).
  const master = [{ host: other.host, port: other.port }];
  // Fewer Sentinels name it than a failover needs (a stale master: the others chose another): none is asked.
  const few = await askSentinelsToFailOver([sentinel], 'mymaster', master, { timeoutMs: 2000 }, { ...one, need: 2 });
  assert.deepEqual(few.refusals, [
    'only 1 of 1 Sentinels name this master, 2 needed: a forced failover could replace the master the others ' +
      'chose; none asked',
  ]);
  const yes = await askSentinelsToFailOver([sentinel], 'mymaster', master, { timeoutMs: 2000 }, one);
  assert.ok(yes.asked || yes.refusals.every((x) => !/not this master/.test(x)), yes.refusals.join('; '));
});
