// redisFailure: the one reading of Redis and Sentinel error messages; the codes the product acts on are pinned here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyError } from 'ioredis';
import { aliveButBusy, redisFailure } from '../../src/redis/errors.ts';

test('redisFailure: an error reply by its code; no reply at all is UNANSWERED', () => {
  const reply = (m: string) => redisFailure(new ReplyError(m));
  assert.equal(reply('LOADING Redis is loading the dataset in memory').code, 'LOADING');
  assert.equal(
    reply('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no').code,
    'MASTERDOWN',
  );
  assert.equal(reply('INPROG Failover already in progress').code, 'INPROG');
  assert.equal(reply("READONLY You can't write against a read only replica.").code, 'READONLY');
  const noSuch = reply('ERR No such master with that name');
  assert.deepEqual([noSuch.code, noSuch.noSuchMaster], ['ERR', true]);
  assert.equal(redisFailure(new Error('no answer from 10.0.0.1:6379 within 1000 ms')).code, 'UNANSWERED');
  assert.equal(redisFailure(new Error('connect ECONNREFUSED 10.0.0.1:6379')).code, 'UNANSWERED');
  assert.equal(redisFailure(new Error('Connection is closed.')).code, 'UNANSWERED');
  assert.ok(aliveButBusy(reply('LOADING Redis is loading')) && aliveButBusy(reply('MASTERDOWN Link down')));
  assert.ok(!aliveButBusy(reply('NOAUTH Authentication required.')));
});
