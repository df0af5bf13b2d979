// untilEnough: answers as they arrive, going on once they decide the question.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { untilEnough } from '../../src/runtime/until-enough.ts';

const never = new Promise<number>(() => {});

test('returns once enough has answered, without the asks that never settle', async () => {
  const got = await untilEnough([Promise.resolve(1), never, Promise.resolve(2)], (g) => g.length >= 2);
  assert.deepEqual(got.sort(), [1, 2]);
});

test('a rejected ask gives no answer; without enough, it returns when every ask has settled', async () => {
  const got = await untilEnough([Promise.resolve(1), Promise.reject(new Error('x')), Promise.resolve(3)], () => false);
  assert.deepEqual(got.sort(), [1, 3]);
});

test('no asks: returns at once, empty', async () => {
  assert.deepEqual(await untilEnough([], () => false), []);
});
