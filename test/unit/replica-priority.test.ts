// The replica's priority: 0 while it must not be promoted, whoever raised it; back to the setting only over a 0 the
// supervisor set itself, never over a running switchover's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { askAgainForCandidate, priorityToSet, sentinelsListingCandidate } from '../../src/sentinel/rules/priority.ts';
import { redisReadiness } from '../../src/sentinel/rules/readiness.ts';
import { CandidateListing } from '../../src/sentinel/redis-container/candidate-listing.ts';
import type { Config } from '../../src/config/types.ts';

const base = { synced: true, setting: 100, now: '100', lastSet: '100' };

test('replica-priority: held by engines or the first sync, 0 is enforced whoever raised it', () => {
  assert.equal(priorityToSet(base), undefined);
  assert.deepEqual(priorityToSet({ ...base, held: 'no failover candidate while redis-2 …' }), {
    set: '0',
    why: 'no failover candidate while redis-2 …',
  });
  // A switchover saved 100 before the hold and restored it after: the hold wins again.
  assert.deepEqual(priorityToSet({ ...base, held: 'x', lastSet: '0' })?.set, '0');
  assert.deepEqual(priorityToSet({ ...base, synced: false })?.why, 'its first full sync is not done');
  assert.equal(priorityToSet({ ...base, held: 'x', now: '0', lastSet: '0' }), undefined);
});

test('replica-priority: raised back only over its own 0', () => {
  assert.deepEqual(priorityToSet({ ...base, now: '0', lastSet: '0' }), { set: '100', why: 'a failover candidate' });
  // A switchover holds this replica at 0 while it runs: left to it.
  assert.equal(priorityToSet({ ...base, now: '0', lastSet: '100' }), undefined);
  // Someone set another value by hand: left alone.
  assert.equal(priorityToSet({ ...base, now: '7', lastSet: '0' }), undefined);
});

// A SIGTERM handover whose SENTINEL FAILOVER every Sentinel refused asks again only when Sentinel saw no replica it
// may promote (NOGOODSLAVE) and the others did not answer: this pod's own Sentinel stops with it (the review found
// the retry never ran when that refusal counted against it).
test("handover: asked again on NOGOODSLAVE, also when this pod's Sentinel does not answer; not otherwise", () => {
  assert.equal(askAgainForCandidate(['NOGOODSLAVE', 'NOGOODSLAVE']), true);
  assert.equal(askAgainForCandidate(['NOGOODSLAVE', 'UNANSWERED']), true);
  assert.equal(askAgainForCandidate(['UNANSWERED', 'UNANSWERED']), false);
  assert.equal(askAgainForCandidate(['NOGOODSLAVE', '']), false, 'a Sentinel naming another master: never forced');
  assert.equal(askAgainForCandidate(['NOGOODSLAVE', 'NOPERM']), false);
  assert.equal(askAgainForCandidate([]), false);
});

test('a replica raised after its first sync is Ready once a majority of the Sentinels list it as a candidate', () => {
  const self = { host: '10.0.0.10', port: 6379 };
  const byName = { host: 'redis-1.redis', port: 6379 };
  const row = (priority: number, o: { a?: typeof self; flags?: string; age?: number } = {}) => ({
    ...(o.a ?? self),
    priority,
    flags: (o.flags ?? 'slave').split(','),
    infoAgeMs: o.age ?? 400,
  });
  const other = { host: '10.0.0.12', port: 6379, priority: 100, flags: ['slave'], infoAgeMs: 10 };
  const count = (lists: (ReturnType<typeof row>[] | undefined)[], addrs = [self]) =>
    sentinelsListingCandidate(lists, addrs, 2000);
  // Unanswered, still 0, not found yet (a new IP), listed: one counts.
  assert.equal(count([undefined, [other, row(0)], [other], [other, row(100)]]), 1);
  // Its INFO read before the raise (2 s ago): what the process before showed at that address, or nothing yet.
  assert.equal(count([[row(100, { age: 2500 })], [row(100, { age: 0 })]]), 0);
  // Seen down or disconnected: not a replica Sentinel would pick.
  assert.equal(count([[row(100, { flags: 'slave,disconnected' })], [row(100, { flags: 'slave,s_down' })]]), 0);
  // By any of its addresses (hostnames mode: Sentinel names it by DNS name).
  assert.equal(count([[row(100, { a: byName })], [row(100)]], [byName, self]), 2);
  const synced = { role: 'slave', masterLinkStatus: 'up', syncInProgress: false, loading: false };
  const ready = (candidate?: { listing: number; need: number }) =>
    redisReadiness(self, synced, [], 2, 3, true, candidate);
  assert.equal(ready().ready, true);
  assert.deepEqual(ready({ listing: 1, need: 2 }), {
    ready: false,
    reason:
      "replica, synced, but 1 Sentinel(s) list it as a failover candidate, 2 needed (a Sentinel reads a replica's " +
      'replica-priority in its INFO, every 1 to 10 s)',
  });
  assert.equal(ready({ listing: 2, need: 2 }).ready, true);
  // A replica still syncing says so first.
  assert.equal(
    redisReadiness(self, { ...synced, masterLinkStatus: 'down' }, [], 2, 3, true, { listing: 0, need: 2 }).reason,
    'replica link is down',
  );
});

test('the wait for the Sentinels: from the first sync until enough list it; not for good; not as master', async () => {
  const c = { quorum: 2, masterSet: 'mymaster', podHost: '10.0.0.10', redisPort: 6379 } as unknown as Config;
  const held = new CandidateListing(true);
  assert.deepEqual(await held.check(c, [], 3, '0'), { listing: 0, need: 2 }, 'its first sync is not done');
  held.synced(Date.now());
  assert.deepEqual(await held.check(c, [], 3, '100'), { listing: 0, need: 2 }, 'no Sentinel lists it yet');
  held.noCandidate(); // promoted meanwhile
  assert.equal(await held.check(c, [], 3, '100'), undefined);
  // Raised by someone else (a switchover), or the Sentinels down: Ready after 30 s anyway.
  const late = new CandidateListing(true);
  late.synced(Date.now() - 31_000);
  assert.equal(await late.check(c, [], 3, '100'), undefined);
  assert.equal(await new CandidateListing(false).check(c, [], 3, '100'), undefined, 'never held: never waits');
});
