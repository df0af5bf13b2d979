// The switchover's pure checks: which replica, and every refusal with its reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PodView, RoleAnswer, SentinelView } from '../../src/model.ts';
import {
  catchUpWindow,
  IN_SYNC_BYTES,
  planSwitchover,
  resumeAfterNoMajority,
} from '../../src/sentinel/rules/switchover.ts';

const pod = (i: number): PodView => ({
  name: `redis-${i}`,
  ordinal: i,
  ip: `10.0.0.${i + 1}`,
  phase: 'Running',
  ready: true,
  terminating: false,
});
const pods = [pod(0), pod(1), pod(2)];
const M = { host: '10.0.0.1', port: 6379 };
const s = (extra: Partial<SentinelView> = {}): SentinelView => ({
  sentinel: { host: '10.0.0.9', port: 26379 },
  reachable: true,
  master: M,
  ...extra,
});
const replica = (offset: number, linkState = 'connected'): RoleAnswer => ({
  answered: true,
  role: 'slave',
  master: M,
  linkState,
  offset,
});
const roles = (r1: RoleAnswer, r2: RoleAnswer): Record<string, RoleAnswer> => ({
  'redis-0': { answered: true, role: 'master', offset: 5_000_000, replicas: [] },
  'redis-1': r1,
  'redis-2': r2,
});
const plan = (r: Record<string, RoleAnswer>, extra: Partial<Parameters<typeof planSwitchover>[0]> = {}) =>
  planSwitchover({
    pods,
    roles: r,
    sentinels: [s(), s(), s()],
    knownSentinels: 3,
    quorum: 2,
    redisPort: 6379,
    downAfterMs: 5000,
    ...extra,
  });

test('the most caught-up replica by default; the chosen one with --to', () => {
  const p = plan(roles(replica(4_999_000), replica(5_000_000)));
  assert.ok(p.ok && p.target.name === 'redis-2' && p.master.name === 'redis-0');
  assert.deepEqual(p.ok && p.others, [{ host: '10.0.0.2', port: 6379 }]);
  const q = plan(roles(replica(4_999_000), replica(5_000_000)), { to: 'redis-1' });
  assert.ok(q.ok && q.target.name === 'redis-1');
});

test('refusals, each with its reason', () => {
  const cases: [Parameters<typeof plan>, RegExp][] = [
    [[roles(replica(0), replica(5_000_000)), { to: 'redis-1' }], /redis-1 is not in sync: it lags by 5000000 bytes/],
    [[roles(replica(5e6, 'connect'), replica(5e6)), { to: 'redis-1' }], /its link to redis-0 is connect/],
    [[roles({ answered: false }, replica(5e6)), { to: 'redis-1' }], /redis-1 is not in sync: it does not answer/],
    [[roles(replica(0), replica(0))], /no replica of redis-0 is in sync/],
    [[roles(replica(5e6), replica(5e6)), { to: 'redis-0' }], /redis-0 is the master already/],
    [[roles(replica(5e6), replica(5e6)), { to: 'redis-7' }], /no live pod of the set is named redis-7/],
    [[roles(replica(5e6), replica(5e6)), { paused: '2026-12-01T12:00:00Z' }], /paused .* since 2026-12-01T12:00:00Z/],
    [
      [roles(replica(5e6), replica(5e6)), { sentinels: [s({ failoverInProgress: true }), s(), s()] }],
      /a failover is in progress/,
    ],
    [
      [roles(replica(5e6), replica(5e6)), { sentinels: [s(), s({ master: { host: '10.0.0.2', port: 6379 } })] }],
      /sentinels disagree/,
    ],
  ];
  for (const [[r, extra], why] of cases) {
    const p = plan(r, extra);
    assert.equal(p.ok, false, String(why));
    assert.match(p.ok ? '' : p.reason, why);
  }
  assert.equal(IN_SYNC_BYTES, 1 << 20);
});

// The middle of a move from Redis 7.0 to Valkey 8.0 (replica first): Valkey writes RDB 11, which Redis 7.0 cannot
// load, so a Valkey replica is no target while any other pod, the master included, runs Redis 7.0.
test('engines: never a target another pod could not follow; by default the next that all can', () => {
  const mixed = [
    { ...pod(0), engine: 'redis 7.0.15' },
    { ...pod(1), engine: 'valkey 8.0.1' },
    { ...pod(2), engine: 'redis 7.0.15' },
  ];
  const r = roles(replica(5_000_000), replica(4_999_000));
  const to = plan(r, { pods: mixed, to: 'redis-1' });
  assert.equal(to.ok, false);
  assert.match(to.ok ? '' : to.reason, /^redis-1 is no failover candidate while redis-0 \(redis 7\.0\.15\) replicates/);
  const auto = plan(r, { pods: mixed });
  assert.ok(auto.ok && auto.target.name === 'redis-2', 'the Redis 7.0 replica, although behind');
  const none = plan(r, { pods: mixed.map((p, i) => (i === 2 ? { ...p, engine: 'valkey 8.0.1' } : p)) });
  assert.match(none.ok ? '' : none.reason, /^redis-1 is no failover candidate .*; redis-2 is no failover candidate/);
  // All on Valkey but the master: the master follows after a switchover, so it too must be able to.
  const allButMaster = mixed.map((p, i) => (i === 0 ? p : { ...p, engine: 'valkey 8.0.1' }));
  assert.equal(plan(r, { pods: allButMaster }).ok, false);
});

// After SENTINEL FAILOVER was accepted and no majority named a new master in time: the old master may take writes
// again only if nothing was promoted and no Sentinel is still failing over; else a write it took would be lost.
test('resumeAfterNoMajority: only when the master is still master, the target not, and no failover runs', () => {
  const master: RoleAnswer = { answered: true, role: 'master', offset: 10, replicas: [] };
  const replica: RoleAnswer = {
    answered: true,
    role: 'slave',
    master: { host: '10.0.0.1', port: 6379 },
    linkState: 'connected',
    offset: 10,
  };
  const calm: SentinelView[] = [{ sentinel: { host: '10.0.0.9', port: 26379 }, reachable: true }];
  assert.equal(resumeAfterNoMajority({ master, target: replica, sentinels: calm }).resume, true);
  const promoted = resumeAfterNoMajority({ master, target: master, sentinels: calm });
  assert.equal(promoted.resume, false);
  assert.match(promoted.reason, /the target answers ROLE master/);
  const busy = resumeAfterNoMajority({
    master,
    target: replica,
    sentinels: [{ ...calm[0], failoverInProgress: true }],
  });
  assert.equal(busy.resume, false);
  assert.match(busy.reason, /still failing over/);
  assert.equal(resumeAfterNoMajority({ master: replica, target: replica, sentinels: calm }).resume, false);
  assert.equal(resumeAfterNoMajority({ master, target: { answered: false }, sentinels: calm }).resume, false);
  // The Sentinel that took the failover does not answer: it may still promote the target.
  const silent = resumeAfterNoMajority({
    master,
    target: replica,
    sentinels: [...calm, { sentinel: { host: '10.0.0.8', port: 26379 }, reachable: false }],
    asked: { host: '10.0.0.8', port: 26379 },
  });
  assert.equal(silent.resume, false);
  assert.match(silent.reason, /took the failover, does not answer/);
  assert.equal(
    resumeAfterNoMajority({ master, target: replica, sentinels: calm, asked: calm[0].sentinel }).resume,
    true,
  );
});

test('the catch-up window: an abort leaves the master paused for less than down-after-milliseconds', () => {
  // A paused master holds up Sentinel (its hello PUBLISH waits, its PINGs behind it): paused for down-after-ms, it
  // is seen down, and an aborted switchover would end in the very failover it refused (CI: the tests' 1000 ms).
  for (const downAfter of [500, 1000, 2000, 5000, 30_000]) {
    const w = catchUpWindow(downAfter);
    assert.ok(w.waitMs + w.pause.pauseMs <= downAfter * 0.6, `${downAfter}: ${JSON.stringify(w)}`);
    assert.ok(w.waitMs >= 200 && w.pause.everyMs < w.pause.pauseMs, `${downAfter}: ${JSON.stringify(w)}`);
  }
  // The default down-after (5 s): as before, 2 s to catch up under a 1 s pause.
  assert.deepEqual(catchUpWindow(5000), { waitMs: 2000, pause: { pauseMs: 1000, everyMs: 200 } });
});

test('below 500 ms of down-after a switchover is refused before anything changes', () => {
  // The catch-up pause must end well inside down-after-milliseconds (catchUpWindow): below 500 ms it cannot, and
  // an abort would leave a master the Sentinels see down. Refused with what to do instead, nothing paused.
  const r = roles(replica(5_000_000), replica(5_000_000));
  const low = plan(r, { downAfterMs: 400 });
  assert.ok(!low.ok && /400 ms/.test(low.reason) && /delete the master pod/.test(low.reason), JSON.stringify(low));
  // The shortest down-after counts: the Sentinels' own (a dedicated group's comes from its StatefulSet).
  const theirs = plan(r, { sentinels: [s({ downAfterMs: 300 }), s(), s()] });
  assert.ok(!theirs.ok && /300 ms/.test(theirs.reason), JSON.stringify(theirs));
  const ok = plan(r, { downAfterMs: 500 });
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.deepEqual(ok.window, catchUpWindow(500), 'the plan carries the catch-up window of that down-after');
});
