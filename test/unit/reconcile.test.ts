// The supervisor's pure rules: what to do about this pod's label and role, readiness, and what a Sentinel reset drops.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoleAnswer, SentinelView } from '../../src/model.ts';
import { reconcile, sentinelMaster } from '../../src/sentinel/rules/reconcile.ts';
import { fence, fenceConfirmed, votersElsewhere } from '../../src/sentinel/rules/fence.ts';
import { redisReadiness } from '../../src/sentinel/rules/readiness.ts';
import { followers } from '../../src/redis/replies.ts';
import { staleEntries } from '../../src/sentinel/sentinel-container/supervisor.ts';

const self = { host: '10.0.0.10', port: 6379 };
const other = { host: '10.0.0.11', port: 6379 };
const s = (m: typeof self | null, extra: Partial<SentinelView> = {}): SentinelView => ({
  sentinel: { host: '10.0.0.99', port: 26379 },
  reachable: true,
  master: m,
  ...extra,
});
const master: RoleAnswer = { answered: true, role: 'master', offset: 1, replicas: [] };
const replicaOf = (m: typeof self): RoleAnswer => ({
  answered: true,
  role: 'slave',
  master: m,
  linkState: 'connected',
  offset: 1,
});

type View = Parameters<typeof reconcile>[0];
/** A case's view; the known Sentinels default to those listed (every Sentinel pod answered). */
type Case = Omit<View, 'knownSentinels'> & { knownSentinels?: number };
const cases: [string, Case, string, RegExp][] = [
  [
    'replica with a wrong label -> label slave',
    { self, quorum: 2, local: replicaOf(other), label: 'master', sentinels: [s(other), s(other)] },
    'label:slave',
    /replica of 10\.0\.0\.11:6379 but the label is master/,
  ],
  [
    'replica, label true -> nothing',
    { self, quorum: 2, local: replicaOf(other), label: 'slave', sentinels: [] },
    'none',
    /label is true/,
  ],
  [
    'replica left following a gone master: a majority names another that answers master -> follow it',
    {
      self,
      quorum: 2,
      local: replicaOf({ host: '10.0.0.12', port: 6379 }),
      label: 'slave',
      sentinels: [s(other), s(other), s(null, { reachable: false })],
      namedMasterRole: master,
    },
    'follow',
    /replica of 10\.0\.0\.12:6379 but 2 sentinels name 10\.0\.0\.11:6379.*left behind/,
  ],
  [
    'replica left behind, but the named master does not answer as master -> nothing',
    {
      self,
      quorum: 2,
      local: replicaOf({ host: '10.0.0.12', port: 6379 }),
      label: 'slave',
      sentinels: [s(other), s(other)],
      namedMasterRole: replicaOf(self),
    },
    'none',
    /label is true/,
  ],
  [
    'replica left behind during a failover -> nothing',
    {
      self,
      quorum: 2,
      local: replicaOf({ host: '10.0.0.12', port: 6379 }),
      label: 'slave',
      sentinels: [s(other, { failoverInProgress: true }), s(other)],
      namedMasterRole: master,
    },
    'none',
    /label is true/,
  ],
  [
    'master named by the quorum, label wrong -> label master',
    { self, quorum: 2, local: master, label: 'slave', sentinels: [s(self), s(self), s(null)] },
    'label:master',
    /name this pod master but the label is slave/,
  ],
  [
    'master without a Sentinel quorum -> the label is left alone',
    { self, quorum: 2, local: master, label: undefined, sentinels: [s(self), s(null, { reachable: false })] },
    'none',
    /only 1 of 2 known sentinels name a master/,
  ],
  [
    'stale master: quorum names another that answers master -> heal',
    { self, quorum: 2, local: master, label: 'master', sentinels: [s(other), s(other)], namedMasterRole: master },
    'heal',
    /stale master/,
  ],
  [
    'the named master does not answer -> wait, never demote',
    {
      self,
      quorum: 2,
      local: master,
      label: 'master',
      sentinels: [s(other), s(other)],
      namedMasterRole: { answered: false },
    },
    'none',
    /does not answer as master/,
  ],
  [
    'failover in progress -> nothing is touched',
    {
      self,
      quorum: 2,
      local: master,
      label: 'master',
      sentinels: [s(other, { failoverInProgress: true }), s(other)],
      namedMasterRole: master,
    },
    'none',
    /failover is in progress/,
  ],
  [
    'Sentinels disagree -> nothing is touched',
    { self, quorum: 1, local: master, label: 'master', sentinels: [s(other), s(self)], namedMasterRole: master },
    'none',
    /disagree/,
  ],
  [
    'minority side of a partition: 2 of 5 known Sentinels name this master -> the label is left alone',
    { self, quorum: 2, knownSentinels: 5, local: master, label: 'slave', sentinels: [s(self), s(self)] },
    'none',
    /only 2 of 5 known sentinels name a master \(3 needed\)/,
  ],
  [
    'one lagging Sentinel does not block the heal when a majority names the real master',
    {
      self,
      quorum: 2,
      knownSentinels: 3,
      local: master,
      label: 'master',
      sentinels: [s(other), s(other), s(self)],
      namedMasterRole: master,
    },
    'heal',
    /2 sentinels name 10\.0\.0\.11:6379/,
  ],
  [
    'just promoted: the leader names this pod at a newer config epoch, the other two still the old master -> no heal',
    {
      self,
      quorum: 2,
      knownSentinels: 3,
      local: master,
      label: 'slave',
      sentinels: [s(other, { epoch: 1 }), s(other, { epoch: 1 }), s(self, { epoch: 2 })],
      namedMasterRole: master,
    },
    'none',
    /epoch 2 names this pod: the others have not caught up/,
  ],
  [
    'a lagging Sentinel at an older epoch names this pod: the majority is newer -> heal',
    {
      self,
      quorum: 2,
      knownSentinels: 3,
      local: master,
      label: 'master',
      sentinels: [s(other, { epoch: 3 }), s(other, { epoch: 3 }), s(self, { epoch: 2 })],
      namedMasterRole: master,
    },
    'heal',
    /stale master/,
  ],
  [
    'confirmed master whose master of record names another pod (a lost record write) -> repair the record',
    {
      self,
      quorum: 2,
      local: master,
      label: 'master',
      sentinels: [s(self), s(self)],
      podName: 'redis-0',
      record: 'redis-1',
    },
    'record',
    /master of record names redis-1/,
  ],
  [
    'confirmed master, label and record true -> nothing',
    {
      self,
      quorum: 2,
      local: master,
      label: 'master',
      sentinels: [s(self), s(self)],
      podName: 'redis-0',
      record: 'redis-0',
    },
    'none',
    /label is true/,
  ],
  [
    'Redis does not answer -> nothing',
    { self, quorum: 2, local: { answered: false }, label: 'master', sentinels: [s(self), s(self)] },
    'none',
    /does not answer/,
  ],
];

for (const [name, view, want, why] of cases) {
  test(name, () => {
    const a = reconcile({ ...view, knownSentinels: view.knownSentinels ?? view.sentinels.length });
    assert.equal(a.kind === 'label' ? `label:${a.value}` : a.kind, want);
    assert.match(a.reason, why);
    if (a.kind === 'heal' || a.kind === 'follow') assert.deepEqual(a.master, other);
  });
}

test('the master the Sentinels agree on is never demoted', () => {
  const a = reconcile({
    self,
    quorum: 2,
    knownSentinels: 3,
    local: master,
    label: 'master',
    sentinels: [s(self), s(self), s(other)],
    namedMasterRole: master,
  });
  assert.equal(a.kind, 'none');
  assert.deepEqual(sentinelMaster([s(self), s(self), s(other)], 2, 3).master, self, 'a majority names it');
  assert.equal(
    sentinelMaster([s(self), s(other)], 1, 2).busy,
    'sentinels disagree (10.0.0.10:6379, 10.0.0.11:6379)',
    'no majority: nothing is trusted',
  );
});

test('readiness: replicas only when synced; masters only when the Sentinels confirm them', () => {
  const r = (facts: Parameters<typeof redisReadiness>[1], sentinels: SentinelView[] = [s(self), s(self)]) =>
    redisReadiness(self, facts, sentinels, 2, sentinels.length);
  assert.deepEqual(r({ role: 'slave', masterLinkStatus: 'down', syncInProgress: true, loading: false }), {
    ready: false,
    reason: 'replica link is down',
  });
  assert.equal(r({ role: 'slave', masterLinkStatus: 'up', syncInProgress: true, loading: false }).ready, false);
  assert.equal(r({ role: 'slave', masterLinkStatus: 'up', syncInProgress: false, loading: true }).ready, false);
  assert.equal(r({ role: 'slave', masterLinkStatus: 'up', syncInProgress: false, loading: false }).ready, true);
  assert.equal(r({ role: 'master', loading: false }).ready, true);
  assert.equal(r({ role: 'master', loading: false }, [s(other), s(other)]).ready, false);
  assert.equal(r(undefined).ready, false);
  // A majority of the known Sentinels, not the quorum of those that answer.
  assert.equal(redisReadiness(self, { role: 'master', loading: false }, [s(self), s(self)], 2, 5).ready, false);
  assert.equal(
    redisReadiness(self, { role: 'master', loading: false }, [s(self), s(self), s(other)], 2, 3).ready,
    true,
  );
});

test('readiness: a master promoted by a failover that can no longer be aborted is Ready before it ends', () => {
  // The leader reconfigures the other replicas (seconds, when one needs a full resync): SENTINEL MASTER still gives
  // the old address, the master it gives out (GET-MASTER-ADDR-BY-NAME) is the promoted one.
  const m = { role: 'master', loading: false };
  const leader = (promoted?: typeof self) => s(other, { failoverInProgress: true, ...(promoted ? { promoted } : {}) });
  const down = s(null, { reachable: false });
  const ready = (views: SentinelView[]) => redisReadiness(self, m, views, 2, 3);
  assert.deepEqual(ready([leader(self), s(self), down]), {
    ready: true,
    reason: 'master, promoted by a failover past its promotion: 2 sentinels give it out',
  });
  assert.equal(ready([leader(), s(self), down]).ready, false, 'not promoted yet: the failover may still abort');
  const third = { host: '10.0.0.12', port: 6379 };
  assert.equal(ready([leader(third), s(self), down]).ready, false, 'another replica promoted');
  assert.equal(ready([leader(self), s(other), down]).ready, false, 'only the leader gives it out: 1 of 2');
  assert.equal(ready([leader(self), s(other, { failoverInProgress: true }), s(self)]).ready, false, 'two failovers');
  assert.equal(ready([leader(self), leader(self), down]).ready, true, 'two failovers, both past promoting it');
  assert.equal(ready([leader(self), leader(third), s(self)]).ready, false, 'two failovers, two promoted');
  // The old master (`other`, which the leader still names in SENTINEL MASTER) stays fenced and touches nothing.
  const views = [leader(self), s(other), down];
  assert.equal(sentinelMaster(views, 2, 3).master, undefined);
  assert.equal(fenceConfirmed(views, other, 2, 3), false);
  assert.equal(votersElsewhere(views, other, 3), 3);
});

test('readiness: a master whose Sentinels are all down (sidecar) stays Ready while replicas follow it', () => {
  const down = [s(null, { reachable: false }), s(null, { reachable: false }), s(null, { reachable: false })];
  const m = { role: 'master', loading: false, following: 2 };
  const r = redisReadiness(self, m, down, 2, 3, true);
  assert.deepEqual(r, {
    ready: true,
    reason: "master; no sentinel answers, not even this pod's own, and 2 replica(s) follow it",
  });
  assert.equal(redisReadiness(self, { ...m, following: 0 }, down, 2, 3, true).ready, false, 'no replica follows');
  assert.equal(
    redisReadiness(self, m, down, 2, 3, false).ready,
    false,
    'dedicated Sentinels: a partition may hide them',
  );
  assert.equal(redisReadiness(self, m, [...down.slice(1), s(other)], 2, 3, true).ready, false, 'one answers: no');
  assert.equal(redisReadiness(self, m, down.slice(2), 2, 3, true).ready, false, 'only its own was asked (API down)');
});

test('a Sentinel reset would drop exactly the addresses no pod has', () => {
  const pods = new Set(['10.0.0.10', '10.0.0.11']);
  assert.deepEqual(
    staleEntries(
      { flags: ['master'], replicas: ['10.0.0.11', '10.0.0.7'], sentinels: ['10.0.0.10', '10.0.0.8'] },
      pods,
    ),
    ['10.0.0.7', '10.0.0.8'],
  );
  assert.deepEqual(staleEntries({ flags: ['master'], replicas: ['10.0.0.11'], sentinels: ['10.0.0.10'] }, pods), []);
});

test('fence: a master that lost its Sentinels’ majority pauses writes after FENCE_AFTER_MS, and only then', () => {
  const v = {
    isMaster: true,
    confirmed: false,
    lastConfirmedAt: 10_000,
    now: 10_400,
    fenceAfterMs: 500,
    fenced: false,
    sentinels: '1 of 3 known sentinels answer, 1 name 10.0.0.1:6379, 2 needed',
  };
  assert.equal(fence(v).kind, 'none', 'unconfirmed for 400 ms: not yet');
  const f = fence({ ...v, now: 10_500 });
  assert.equal(f.kind, 'fence');
  assert.match(f.reason, /^no majority of the sentinels has named this pod master for 500 ms \(1 of 3 known/);
  assert.equal(fence({ ...v, now: 20_000, fenced: true }).kind, 'fence', 'renewed while it lasts');
  assert.equal(fence({ ...v, lastConfirmedAt: undefined, now: 99_000 }).kind, 'none', 'never confirmed: booting');
  assert.equal(fence({ ...v, now: 99_000, fenceAfterMs: 0 }).kind, 'none', 'FENCE_AFTER_MS=0: never');
  assert.equal(fence({ ...v, confirmed: true, fenced: true }).kind, 'unfence', 'named again');
  assert.equal(fence({ ...v, isMaster: false, fenced: true }).kind, 'unfence', 'now a replica');
  assert.equal(fence({ ...v, isMaster: false }).kind, 'none');
  assert.equal(fence({ ...v, confirmed: true }).kind, 'none');
});

test('fence: every Sentinel down (its own sidecar too) while replicas follow: no fence; without them: fence', () => {
  const v = {
    isMaster: true,
    confirmed: false,
    lastConfirmedAt: 10_000,
    now: 20_000,
    fenceAfterMs: 500,
    fenced: false,
    sentinels: '0 of 3 known sentinels answer, 0 agree on no master, 2 needed',
    sentinelsDown: true,
    following: 2,
  };
  const n = fence(v);
  assert.equal(n.kind, 'none');
  assert.match(
    n.reason,
    /^no sentinel answers, not even this pod's own: .* 2 replica\(s\) still follow .*writes go on$/,
  );
  assert.equal(fence({ ...v, fenced: true }).kind, 'unfence', 'fenced before: the writes resume');
  assert.equal(fence({ ...v, following: 0 }).kind, 'fence', 'its replicas left too: it may be cut off');
  assert.equal(fence({ ...v, sentinelsDown: false }).kind, 'fence', 'some Sentinel answers and does not name it');
});

test('fence: when the Sentinels that do not name it cannot elect another master together, no fence', () => {
  // 2 pods, quorum 1: a failover needs both Sentinels (a majority of 2). The replica restarts: its Sentinel is
  // gone, the master's own names it. Nobody can elect another master, so pausing writes would only stop them.
  const v = {
    isMaster: true,
    confirmed: false,
    lastConfirmedAt: 10_000,
    now: 20_000,
    fenceAfterMs: 500,
    fenced: false,
    sentinels: '1 of 2 known sentinels answer, 1 name 10.0.0.1:6379, 2 needed',
    elsewhere: { voters: 1, need: 2 },
  };
  const n = fence(v);
  assert.equal(n.kind, 'none');
  assert.match(n.reason, /only 1 sentinel\(s\) could elect another master, 2 needed: no failover is possible/);
  assert.equal(fence({ ...v, fenced: true }).kind, 'unfence', 'fenced before: the writes resume');
  // 3 pods, the master cut off with its own Sentinel: the other two can elect another master.
  assert.equal(fence({ ...v, elsewhere: { voters: 2, need: 2 } }).kind, 'fence');
});

test('votersElsewhere: only the own Sentinel is sure not to vote elsewhere; not while failing it over', () => {
  const self = { host: '10.0.0.1', port: 6379 };
  const naming = (i: number, extra = {}) => ({
    sentinel: { host: `10.0.0.${i}`, port: 26379 },
    reachable: true,
    master: self,
    ...extra,
  });
  // 2 pods: the replica's Sentinel is gone, the master's own names it: 1 could vote elsewhere.
  assert.equal(votersElsewhere([naming(1)], self, 2), 1);
  // 4 pods: two Sentinels cut off; the one on another pod that names this master may still vote with them (the
  // cut may be one-way): only the own Sentinel, which shares this pod's network, is sure not to.
  assert.equal(votersElsewhere([naming(1), naming(2)], self, 4), 3);
  // SENTINEL MASTER's ip stays the old master until the promotion ends: a Sentinel failing it over names it.
  assert.equal(votersElsewhere([naming(1), naming(2, { failoverInProgress: true })], self, 3), 3);
  // Dedicated Sentinels: none shares this pod's network.
  assert.equal(votersElsewhere([naming(5)], self, 3), 3);
});

test('followers: online replicas that acknowledged within 2 s (a cut-off one stays listed for repl-timeout)', () => {
  assert.equal(
    followers({
      role: 'master',
      slave0: 'ip=10.0.0.2,port=6379,state=online,offset=100,lag=0',
      slave1: 'ip=10.0.0.3,port=6379,state=online,offset=90,lag=2',
      slave2: 'ip=10.0.0.4,port=6379,state=online,offset=50,lag=31',
      slave3: 'ip=10.0.0.5,port=6379,state=wait_bgsave,offset=0,lag=0',
    }),
    2,
  );
  assert.equal(followers({ role: 'master', connected_slaves: '0' }), 0);
});

test('fenceConfirmed: a failover of another address does not unconfirm a master a majority names', () => {
  // Seen in CI (partition.test, 5 pods, quorum 2): after the heal, the two Sentinels cut off with the old master
  // (10.0.0.1) still try to fail it over; the three others name the new master (10.0.0.3). They cannot elect: the
  // Sentinels naming the new master do not vote for another address. The new master must not fence itself (its
  // pause holds Sentinel's PINGs up, and the majority then fails it over too).
  const self = { host: '10.0.0.3', port: 6379 };
  const old = { host: '10.0.0.1', port: 6379 };
  const view = (i: number, master: typeof self, failoverInProgress = false) => ({
    sentinel: { host: `10.0.0.${i}`, port: 26379 },
    reachable: true,
    master,
    failoverInProgress,
  });
  const healed = [view(1, old, true), view(2, old, true), view(3, self), view(4, self), view(5, self)];
  assert.equal(fenceConfirmed(healed, self, 2, 5), true);
  // A failover of this master by a Sentinel that names it: not confirmed.
  const failing = [view(1, old), view(2, old), view(3, self, true), view(4, self), view(5, self)];
  assert.equal(fenceConfirmed(failing, self, 2, 5), false);
  // No majority names it: not confirmed, failover or not.
  const fewer = [view(1, old, true), view(2, old), view(3, old), view(4, self), view(5, self)];
  assert.equal(fenceConfirmed(fewer, self, 2, 5), false);
  assert.equal(fenceConfirmed([view(3, self), view(4, self), view(5, self)], self, 2, 5), true);
});
