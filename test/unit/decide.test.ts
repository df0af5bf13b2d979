// The decision function over named scenarios: every rule of "why is this pod a replica".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, summary } from '../../src/sentinel/rules/boot.ts';
import { decideWithoutApi, type ApiLessObservation } from '../../src/sentinel/rules/boot-without-api.ts';
import { decideSentinelMaster } from '../../src/sentinel/rules/monitor.ts';
import {
  addr,
  canonicalHost,
  sameAddress,
  type Observation,
  type PodView,
  type RoleAnswer,
  type SentinelView,
} from '../../src/model.ts';

const P = 6379;
const ip = (i: number) => `10.0.0.${i + 10}`;
const pod = (i: number, extra: Partial<PodView> = {}): PodView => ({
  name: `redis-${i}`,
  ordinal: i,
  ip: ip(i),
  phase: 'Running',
  ready: true,
  terminating: false,
  data: 'present',
  ...extra,
});
const master = (replicas: number[] = []): RoleAnswer => ({
  answered: true,
  role: 'master',
  offset: 100,
  replicas: replicas.map((r) => ({ host: ip(r), port: P, offset: 100 })),
});
const replicaOf = (m: number): RoleAnswer => ({
  answered: true,
  role: 'slave',
  master: { host: ip(m), port: P },
  linkState: 'connected',
  offset: 100,
});
const sentinel = (i: number, m: number | null | undefined, extra: Partial<SentinelView> = {}): SentinelView =>
  m === undefined
    ? { sentinel: { host: ip(i), port: 26379 }, reachable: false }
    : {
        sentinel: { host: ip(i), port: 26379 },
        reachable: true,
        master: m === null ? null : { host: ip(m), port: P },
        ...extra,
      };

function world(
  self: number,
  o: Partial<Observation> & { roles?: Record<number, RoleAnswer>; hasData?: boolean } = {},
): Observation {
  const { roles = {}, hasData = true, ...rest } = o;
  return {
    self: { name: `redis-${self}`, ip: ip(self), ordinal: self, hasData },
    redisPort: P,
    quorum: 2,
    pods: [pod(0), pod(1), pod(2)],
    sentinels: [sentinel(0, undefined), sentinel(1, undefined), sentinel(2, undefined)],
    record: null,
    ...rest,
    knownSentinels: rest.knownSentinels ?? (rest.sentinels ?? [0, 1, 2]).length,
    roles: Object.fromEntries(Object.entries(roles).map(([k, v]) => [`${ip(Number(k))}:${P}`, v])),
  };
}

const scenarios: {
  name: string;
  obs: Observation;
  expect: { role: string; master?: number; rule?: string; why: RegExp };
}[] = [
  {
    name: 'first boot ever: all pods empty, nothing anywhere -> lowest ordinal is master',
    obs: world(0, {
      hasData: false,
      pods: [pod(0, { data: 'empty' }), pod(1, { data: 'empty' }), pod(2, { data: 'empty' })],
    }),
    expect: {
      role: 'master',
      rule: 'first-boot',
      why: /first boot: this pod has the lowest ordinal \(no pod has data/,
    },
  },
  {
    name: 'first boot, another pod: waits for the lowest ordinal to become master',
    obs: world(2, {
      hasData: false,
      pods: [pod(0, { data: 'empty' }), pod(1, { data: 'empty' }), pod(2, { data: 'empty' })],
    }),
    expect: { role: 'wait', why: /redis-0 has the lowest ordinal.*waiting for it to become master/ },
  },
  {
    name: 'first boot, no StatefulSet (bare pods): only this pod exists -> master',
    obs: world(0, { hasData: false, pods: [pod(0, { data: 'empty' })], sentinels: [sentinel(0, undefined)] }),
    expect: { role: 'master', rule: 'first-boot', why: /lowest ordinal/ },
  },
  {
    name: 'first boot with OrderedReady: only this empty pod exists, the StatefulSet wants 3 -> wait (peers unseen)',
    obs: world(0, {
      hasData: false,
      pods: [pod(0, { data: 'empty', owner: 'redis' })],
      sentinels: [sentinel(0, undefined)],
      setSize: 3,
    }),
    expect: { role: 'wait', why: /redis-1, redis-2 .*not (been )?(seen|reported)/ },
  },
  {
    name: 'first boot with OrderedReady and the start-empty annotation: the operator says go -> master',
    obs: world(0, {
      hasData: false,
      pods: [pod(0, { data: 'empty', owner: 'redis', startEmpty: true })],
      sentinels: [sentinel(0, undefined)],
      setSize: 3,
    }),
    expect: { role: 'master', rule: 'first-boot', why: /start-empty/ },
  },
  {
    name: 'volume replaced, peers Pending without IP, no record -> the empty pod waits (it would wipe them)',
    obs: world(0, {
      hasData: false,
      pods: [
        pod(0, { data: 'empty' }),
        pod(1, { phase: 'Pending', ip: undefined, data: undefined }),
        pod(2, { phase: 'Pending', ip: undefined, data: undefined }),
      ],
      setSize: 3,
    }),
    expect: { role: 'wait', why: /redis-1, redis-2 .*not (been )?(seen|reported)/ },
  },
  {
    name: 'volume replaced, peers Pending without IP, record = this pod -> the empty pod waits',
    obs: world(0, {
      hasData: false,
      record: { pod: 'redis-0' },
      pods: [
        pod(0, { data: 'empty' }),
        pod(1, { phase: 'Pending', ip: undefined, data: undefined }),
        pod(2, { phase: 'Pending', ip: undefined, data: undefined }),
      ],
      setSize: 3,
    }),
    expect: { role: 'wait', why: /redis-1, redis-2 .*not (been )?(seen|reported)/ },
  },
  {
    name: 'a Pending peer that reported data earlier still holds data: the empty pod is never master',
    obs: world(0, {
      hasData: false,
      pods: [pod(0, { data: 'empty' }), pod(1, { phase: 'Pending', ip: undefined }), pod(2, { data: 'empty' })],
      setSize: 3,
    }),
    expect: {
      role: 'wait',
      why: /redis-1 has the lowest ordinal \(among the pods with data\), holds data and is not running/,
    },
  },
  {
    name: 'the StatefulSet cannot be read and the record pod is missing -> wait (unknown is not "gone")',
    obs: world(0, { record: { pod: 'redis-1' }, pods: [pod(0), pod(2)], setSizeUnknown: 'HTTP 500' }),
    expect: { role: 'wait', why: /StatefulSet cannot be read \(HTTP 500\); it may be being recreated/ },
  },
  {
    name: 'a Lease without a holder is no record',
    obs: world(0, { record: { pod: '', resourceVersion: '7' } }),
    expect: { role: 'master', rule: 'first-boot', why: /there is no master of record/ },
  },
  {
    name: 'partition, 5 pods: 2 of 5 Sentinels name this stale master -> not trusted; the record (moved) wins',
    obs: world(0, {
      pods: [pod(0), pod(1), pod(2), pod(3), pod(4)],
      sentinels: [
        sentinel(0, 0),
        sentinel(1, 0),
        sentinel(2, undefined),
        sentinel(3, undefined),
        sentinel(4, undefined),
      ],
      record: { pod: 'redis-3' },
    }),
    expect: { role: 'replica', master: 3, rule: 'master-of-record', why: /only 2\/5 sentinels .*3 needed/ },
  },
  {
    name: 'one lagging Sentinel does not block boot when a majority agrees',
    obs: world(1, {
      sentinels: [sentinel(0, 0), sentinel(1, 0), sentinel(2, 2)],
      roles: { 0: master([2]), 2: replicaOf(0) },
    }),
    expect: { role: 'replica', master: 0, rule: 'sentinels', why: /sentinels 2\/3 name redis-0/ },
  },
  {
    name: 'first boot: a peer has not reported its data yet -> wait, do not guess',
    obs: world(0, {
      hasData: false,
      pods: [pod(0, { data: 'empty' }), pod(1, { data: undefined }), pod(2, { data: 'empty' })],
    }),
    expect: { role: 'wait', why: /waiting for redis-1 to report whether they have data/ },
  },
  {
    name: 'empty data dir: never master while another pod has data (no record, no master)',
    obs: world(0, { hasData: false, pods: [pod(0, { data: 'empty' }), pod(1), pod(2, { data: 'empty' })] }),
    expect: { role: 'wait', why: /redis-1 has the lowest ordinal \(among the pods with data\)/ },
  },
  {
    name: 'restart while Sentinels know the master -> replica of it',
    obs: world(1, {
      sentinels: [sentinel(0, 0), sentinel(1, 0), sentinel(2, 0)],
      roles: { 0: master([2]), 2: replicaOf(0) },
    }),
    expect: {
      role: 'replica',
      master: 0,
      rule: 'sentinels',
      why: /sentinels 3\/3 name redis-0 \(10\.0\.0\.10:6379\) as master; it answers ROLE master/,
    },
  },
  {
    name: 'master died, failover in progress -> wait',
    obs: world(1, {
      sentinels: [sentinel(0, undefined), sentinel(1, 0, { failoverInProgress: true }), sentinel(2, 0)],
      roles: { 2: replicaOf(0) },
    }),
    expect: { role: 'wait', why: /failover in progress/ },
  },
  {
    name: 'master died, Sentinels still name it (not yet failed over) -> wait',
    obs: world(1, { sentinels: [sentinel(1, 0), sentinel(2, 0)], roles: { 0: { answered: false }, 2: replicaOf(0) } }),
    expect: { role: 'wait', why: /does not answer; waiting for Sentinel to fail over/ },
  },
  {
    name: 'Sentinels unreachable, but a live master exists -> replica of the live master',
    obs: world(2, { roles: { 1: master([0]), 0: replicaOf(1) } }),
    expect: { role: 'replica', master: 1, rule: 'live-master', why: /live pod redis-1 .* answers ROLE master/ },
  },
  {
    name: 'Sentinels disagree -> wait',
    obs: world(2, {
      sentinels: [sentinel(0, 0), sentinel(1, 1), sentinel(2, undefined)],
      roles: { 0: master(), 1: master() },
    }),
    expect: { role: 'wait', why: /sentinels disagree/ },
  },
  {
    name: 'only one Sentinel answers (below quorum) -> falls through to the live master',
    obs: world(2, {
      sentinels: [sentinel(0, 0), sentinel(1, undefined), sentinel(2, undefined)],
      roles: { 0: master() },
    }),
    expect: { role: 'replica', master: 0, rule: 'live-master', why: /answers ROLE master/ },
  },
  {
    name: 'full restart with a master of record: the record pod is master',
    obs: world(1, { record: { pod: 'redis-1' } }),
    expect: { role: 'master', rule: 'master-of-record', why: /this pod is the master of record and has its data/ },
  },
  {
    name: 'full restart, another pod: replicate the master of record',
    obs: world(0, { record: { pod: 'redis-1' } }),
    expect: { role: 'replica', master: 1, rule: 'master-of-record', why: /the master of record is redis-1/ },
  },
  {
    name: 'full restart: the record pod is not running yet -> wait for it',
    obs: world(0, { record: { pod: 'redis-1' }, pods: [pod(0), pod(1, { phase: 'Pending', ip: undefined }), pod(2)] }),
    expect: { role: 'wait', why: /master of record, redis-1, is not running yet/ },
  },
  {
    name: 'record pointing at a pod that is gone -> first-boot rule among the rest',
    obs: world(0, { record: { pod: 'redis-7' } }),
    expect: { role: 'master', rule: 'first-boot', why: /lowest ordinal \(among the pods with data\)/ },
  },
  {
    name: 'record pointing at a pod being recreated (its ordinal is within the StatefulSet) -> wait for it',
    obs: world(0, { record: { pod: 'redis-1' }, pods: [pod(0), pod(2)], setSize: 3 }),
    expect: { role: 'wait', why: /redis-1, is being recreated \(the StatefulSet keeps 3 replicas\)/ },
  },
  {
    name: 'record pointing at a pod scaled away (ordinal beyond the StatefulSet) -> first-boot rule',
    obs: world(0, { record: { pod: 'redis-4' }, setSize: 3 }),
    expect: { role: 'master', rule: 'first-boot', why: /redis-4, no longer exists \(the StatefulSet has 3 replicas\)/ },
  },
  {
    name: 'spec.ordinals.start 1: first boot of redis-1..3, all empty -> redis-1 is master (no redis-0 waited for)',
    obs: world(1, {
      hasData: false,
      pods: [1, 2, 3].map((i) => pod(i, { data: 'empty', owner: 'redis' })),
      setSize: 3,
      setStart: 1,
    }),
    expect: { role: 'master', rule: 'first-boot', why: /first boot: this pod has the lowest ordinal/ },
  },
  {
    name: 'spec.ordinals.start 1: record on redis-3, whose pod is being recreated -> wait for it',
    obs: world(1, { record: { pod: 'redis-3' }, pods: [pod(1), pod(2)], setSize: 3, setStart: 1 }),
    expect: { role: 'wait', why: /redis-3, is being recreated \(the StatefulSet keeps 3 replicas\)/ },
  },
  {
    name: 'spec.ordinals.start 1: record on redis-0, below the first ordinal -> gone, first-boot rule',
    obs: world(1, { record: { pod: 'redis-0' }, pods: [pod(1), pod(2), pod(3)], setSize: 3, setStart: 1 }),
    expect: { role: 'master', rule: 'first-boot', why: /redis-0, no longer exists/ },
  },
  {
    name: 'record pod lost its data while others have data -> it must not be master',
    obs: world(1, { record: { pod: 'redis-1' }, hasData: false, pods: [pod(0), pod(1, { data: 'empty' }), pod(2)] }),
    expect: { role: 'wait', why: /redis-0 has the lowest ordinal \(among the pods with data\)/ },
  },
  {
    name:
      "pod IP changed: Sentinels name this pod's old IP, which no pod has; nobody answers there -> wait for " +
      'failover',
    obs: world(0, {
      pods: [pod(0, { ip: '10.0.0.99' }), pod(1), pod(2)],
      self: { name: 'redis-0', ip: '10.0.0.99', ordinal: 0, hasData: true },
      sentinels: [sentinel(1, 0), sentinel(2, 0)],
      roles: { 1: replicaOf(0), 2: replicaOf(0) },
    }),
    expect: { role: 'wait', why: /name 10\.0\.0\.10:6379 as master, but it does not answer/ },
  },
  {
    name: 'pod IP changed after the failover: replica of the new master',
    obs: world(0, {
      pods: [pod(0, { ip: '10.0.0.99' }), pod(1), pod(2)],
      self: { name: 'redis-0', ip: '10.0.0.99', ordinal: 0, hasData: true },
      sentinels: [sentinel(1, 1), sentinel(2, 1)],
      roles: { 1: master([2]) },
    }),
    expect: { role: 'replica', master: 1, rule: 'sentinels', why: /name redis-1/ },
  },
  {
    name: 'crashed and restarted before Sentinel noticed, with its data -> comes back as master',
    obs: world(0, {
      sentinels: [sentinel(0, undefined), sentinel(1, 0), sentinel(2, 0)],
      roles: { 1: replicaOf(0), 2: replicaOf(0) },
    }),
    expect: { role: 'master', rule: 'sentinels', why: /name this pod .* as master; its data dir has data/ },
  },
  {
    name: 'restarted before Sentinel noticed with a large dataset and in-sync replicas -> hand over, do not load',
    obs: world(0, {
      self: { name: 'redis-0', ip: ip(0), ordinal: 0, hasData: true, dataBytes: 300e6 },
      loadingHandoverBytes: 100e6,
      sentinels: [sentinel(0, 0), sentinel(1, 0), sentinel(2, 0)],
      roles: { 1: replicaOf(0), 2: replicaOf(0) },
    }),
    expect: {
      role: 'handover',
      why: /data files \(300 MB\) are larger than LOADING_HANDOVER_BYTES \(100 MB\).*redis-1, redis-2 replicate/,
    },
  },
  {
    name: 'restarted with a large dataset but no replica to take over -> comes back as master (loads)',
    obs: world(0, {
      self: { name: 'redis-0', ip: ip(0), ordinal: 0, hasData: true, dataBytes: 300e6 },
      loadingHandoverBytes: 100e6,
      sentinels: [sentinel(0, 0), sentinel(1, 0), sentinel(2, 0)],
      roles: { 1: { answered: false }, 2: { answered: false } },
    }),
    expect: { role: 'master', rule: 'sentinels', why: /comes back as master/ },
  },
  {
    name: 'crashed and restarted before Sentinel noticed, data dir lost -> must not come back as an empty master',
    obs: world(0, {
      hasData: false,
      sentinels: [sentinel(1, 0), sentinel(2, 0)],
      roles: { 1: replicaOf(0), 2: replicaOf(0) },
    }),
    expect: {
      role: 'wait',
      why: /data dir is empty while redis-1, redis-2 hold data; it must not come back as an empty master/,
    },
  },
  {
    name: 'two live masters (split brain) and one is labelled master -> replicate the labelled one',
    obs: world(2, {
      pods: [pod(0, { roleLabel: 'slave' }), pod(1, { roleLabel: 'master' }), pod(2)],
      roles: { 0: master(), 1: master() },
    }),
    expect: { role: 'replica', master: 1, rule: 'live-master', why: /redis-1 is the one labelled master/ },
  },
  {
    name: 'terminating pods do not count as live masters',
    obs: world(2, {
      pods: [pod(0, { terminating: true }), pod(1), pod(2)],
      roles: { 0: master() },
      record: { pod: 'redis-1' },
    }),
    expect: { role: 'replica', master: 1, rule: 'master-of-record', why: /master of record is redis-1/ },
  },
  // The record is unusable (its pod is gone for good: the StatefulSet was scaled down): the lowest ordinal among the
  // pods with data wins, so every lower ordinal must have said whether it has data first.
  {
    name: 'record pod gone for good, this pod has data, a lower ordinal is Pending and has not reported -> wait',
    obs: world(1, {
      pods: [pod(0, { phase: 'Pending', ip: undefined, data: undefined }), pod(1), pod(2)],
      record: { pod: 'redis-4' },
      setSize: 3,
    }),
    expect: { role: 'wait', why: /waiting for redis-0 to report whether they have data/ },
  },
  {
    name: 'record pod gone for good, this pod has data, a lower ordinal has no pod yet -> wait',
    obs: world(1, { pods: [pod(1), pod(2)], record: { pod: 'redis-4' }, setSize: 3 }),
    expect: { role: 'wait', why: /waiting for redis-0 to report whether they have data/ },
  },
  {
    name: 'record pod gone for good, this pod has data, a lower ordinal Pending reported empty -> master',
    obs: world(1, {
      pods: [pod(0, { phase: 'Pending', ip: undefined, data: 'empty' }), pod(1), pod(2)],
      record: { pod: 'redis-4' },
      setSize: 3,
    }),
    expect: { role: 'master', rule: 'first-boot', why: /lowest ordinal \(among the pods with data\)/ },
  },
  // A whole set restarted with new IPs while dedicated Sentinels kept running: they name the old master's address
  // (10.0.0.19 here), which no pod has, and can never fail over.
  {
    name: 'the Sentinels name an address no pod has, for down-after-ms, nobody to promote -> the record decides',
    obs: world(1, {
      pods: [pod(0, { ready: false }), pod(1, { ready: false }), pod(2, { ready: false })],
      sentinels: [sentinel(0, 9), sentinel(1, 9), sentinel(2, 9)],
      record: { pod: 'redis-1', ip: '10.0.0.19' },
      waitedMs: 6000,
      downAfterMs: 5000,
      sentinelReplicas: [
        { host: '10.0.0.17', port: P },
        { host: '10.0.0.18', port: P },
      ],
    }),
    expect: { role: 'master', rule: 'master-of-record', why: /belongs to no pod of the set.*so it is no master/ },
  },
  {
    name: 'the same, and the record pod already runs as master -> replicate it',
    obs: world(0, {
      pods: [pod(0, { ready: false }), pod(1), pod(2, { ready: false })],
      sentinels: [sentinel(0, 9), sentinel(1, 9), sentinel(2, 9)],
      record: { pod: 'redis-1', ip: '10.0.0.19' },
      roles: { 1: master() },
      waitedMs: 6000,
      downAfterMs: 5000,
      sentinelReplicas: [
        { host: '10.0.0.17', port: P },
        { host: '10.0.0.18', port: P },
      ],
    }),
    expect: { role: 'replica', master: 1, rule: 'live-master', why: /answers ROLE master/ },
  },
  {
    name: 'the same before down-after-ms has passed -> wait for Sentinel',
    obs: world(1, {
      sentinels: [sentinel(0, 9), sentinel(1, 9), sentinel(2, 9)],
      record: { pod: 'redis-1', ip: '10.0.0.19' },
      waitedMs: 2000,
      downAfterMs: 5000,
    }),
    expect: { role: 'wait', why: /waiting for Sentinel to fail over/ },
  },
  {
    name: 'an address no pod has, but the record was written for another address (maybe older) -> wait',
    obs: world(1, {
      sentinels: [sentinel(0, 9), sentinel(1, 9), sentinel(2, 9)],
      record: { pod: 'redis-1', ip: '10.0.0.18' },
      waitedMs: 60_000,
      downAfterMs: 5000,
    }),
    expect: { role: 'wait', why: /waiting for Sentinel to fail over/ },
  },
  {
    name: 'an address no pod has, but the Sentinels know a replica at a live pod (it may not answer us) -> wait',
    obs: world(1, {
      pods: [pod(0, { ready: false }), pod(1, { ready: false }), pod(2)],
      sentinels: [sentinel(0, 9), sentinel(1, 9), sentinel(2, 9)],
      record: { pod: 'redis-1', ip: '10.0.0.19' },
      waitedMs: 60_000,
      downAfterMs: 5000,
      sentinelReplicas: [
        { host: '10.0.0.18', port: P },
        { host: ip(2), port: P },
      ],
    }),
    expect: { role: 'wait', why: /waiting for Sentinel to fail over/ },
  },
  {
    name: 'an address no pod has, but what replicas the Sentinels know could not be asked -> wait',
    obs: world(1, {
      sentinels: [sentinel(0, 9), sentinel(1, 9), sentinel(2, 9)],
      record: { pod: 'redis-1', ip: '10.0.0.19' },
      waitedMs: 60_000,
      downAfterMs: 5000,
    }),
    expect: { role: 'wait', why: /waiting for Sentinel to fail over/ },
  },
  {
    name: 'an address no pod has, but a live pod replicates it: Sentinel can still promote that one -> wait',
    obs: world(1, {
      sentinels: [sentinel(0, 9), sentinel(1, 9), sentinel(2, 9)],
      record: { pod: 'redis-1' },
      roles: { 2: replicaOf(9) },
      waitedMs: 60_000,
      downAfterMs: 5000,
    }),
    expect: { role: 'wait', why: /waiting for Sentinel to fail over/ },
  },
];

for (const s of scenarios) {
  test(s.name, () => {
    const d = decide(s.obs);
    assert.equal(d.role, s.expect.role, summary(d));
    if (s.expect.rule) assert.equal((d as { rule: string }).rule, s.expect.rule);
    if (s.expect.master !== undefined) {
      assert.ok(d.role === 'replica');
      assert.deepEqual(d.master, { host: ip(s.expect.master), port: P });
    }
    assert.match(d.reasons.join(' | '), s.expect.why);
    assert.ok(
      d.reasons.every((r) => r.length > 10 && !r.includes('undefined')),
      d.reasons.join(' | '),
    );
  });
}

test('decide is pure: same observation, same decision; the observation is not modified', () => {
  const o = world(1, { sentinels: [sentinel(0, 0), sentinel(1, 0), sentinel(2, 0)], roles: { 0: master() } });
  const copy = structuredClone(o);
  assert.deepEqual(decide(o), decide(o));
  assert.deepEqual(o, copy);
});

test('never two masters: with every pod deciding on the same world, at most one decides master', () => {
  const worlds = [
    (s: number) =>
      world(s, {
        hasData: false,
        pods: [pod(0, { data: 'empty' }), pod(1, { data: 'empty' }), pod(2, { data: 'empty' })],
      }),
    (s: number) => world(s, { record: { pod: 'redis-2' } }),
    (s: number) => world(s, { hasData: s === 1, pods: [pod(0, { data: 'empty' }), pod(1), pod(2, { data: 'empty' })] }),
    (s: number) => world(s, { sentinels: [sentinel(0, 0), sentinel(1, 0), sentinel(2, 0)], roles: { 0: master() } }),
  ];
  for (const w of worlds) assert.ok([0, 1, 2].filter((s) => decide(w(s)).role === 'master').length <= 1);
});

test('Sentinel mode monitors the agreed master, else a live master, else waits', () => {
  assert.deepEqual(
    decideSentinelMaster(
      world(0, { sentinels: [sentinel(0, 1), sentinel(1, 1), sentinel(2, undefined)], roles: { 1: master() } }),
    ).master,
    { host: ip(1), port: P },
  );
  assert.deepEqual(decideSentinelMaster(world(0, { roles: { 2: master() } })).master, { host: ip(2), port: P });
  const none = decideSentinelMaster(world(0, {}));
  assert.equal(none.master, undefined);
  assert.match(none.reasons[0], /no pod answers ROLE master yet/);
});

test('divergent views: each pod decides on its own partial, late view; no empty master over data', () => {
  // Ground truth: which of the 3 pods hold data. Each pod sees every peer in one of several untidy ways: Pending
  // without an IP, not created yet, Running with its data annotation not written yet, or as it is.
  const seen = ['pending', 'missing', 'late', 'true'] as const;
  let masters = 0;
  for (let truth = 0; truth < 8; truth++) {
    const has = (i: number) => Boolean(truth & (1 << i));
    for (let views = 0; views < 4 ** 6; views++) {
      for (const self of [0, 1, 2]) {
        const peers = [0, 1, 2].filter((i) => i !== self);
        const pods = [pod(self, { data: has(self) ? 'present' : 'empty', owner: 'redis' })];
        peers.forEach((i, k) => {
          const how = seen[(views >> (2 * (k + 2 * self))) & 3];
          if (how === 'missing') return;
          const data = has(i) ? 'present' : 'empty';
          if (how === 'pending') {
            pods.push(pod(i, { phase: 'Pending', ip: undefined, data: undefined, owner: 'redis' }));
          } else {
            pods.push(pod(i, { data: how === 'late' ? undefined : data, owner: 'redis' }));
          }
        });
        for (const record of [null, { pod: `redis-${self}` }, { pod: `redis-${peers[0]}` }]) {
          const d = decide(world(self, { hasData: has(self), pods, record, setSize: 3 }));
          if (d.role !== 'master') continue;
          masters++;
          assert.ok(
            has(self) || ![0, 1, 2].some(has),
            `redis-${self} (empty) became master over data (truth ${truth}): ${summary(d)}`,
          );
        }
      }
    }
  }
  assert.ok(masters > 0, 'some views do make a master');
});

test('Sentinel mode with two live masters monitors the master of record, so the supervisors can heal the other', () => {
  const two = world(0, { roles: { 1: master(), 2: master() }, record: { pod: 'redis-2' } });
  assert.deepEqual(decideSentinelMaster(two).master, { host: ip(2), port: P });
  assert.match(decideSentinelMaster(two).reasons[0], /redis-2 is the master of record/);
  const labelled = world(0, {
    roles: { 1: master(), 2: master() },
    pods: [pod(0), pod(1, { roleLabel: 'master' }), pod(2)],
  });
  assert.deepEqual(decideSentinelMaster(labelled).master, { host: ip(1), port: P });
  assert.equal(decideSentinelMaster(world(0, { roles: { 1: master(), 2: master() } })).master, undefined);
});

test('Sentinels split between a live master and an address nobody answers at: not a deadlock', () => {
  // After a rolling update one Sentinel still names the old master's IP (its pod was recreated elsewhere), the
  // other names the new master; this pod's own Sentinel, the tie-breaker, waits for a master to monitor.
  const split = world(2, {
    pods: [pod(0), pod(1), pod(2, { data: 'present' })],
    sentinels: [sentinel(0, 1), { ...sentinel(1, 1), master: { host: '10.0.0.99', port: P } }, sentinel(2, undefined)],
    roles: { 1: master([0]), 0: replicaOf(1) },
  });
  const d = decide(split);
  assert.equal(d.role, 'replica', summary(d));
  assert.equal(d.role === 'replica' && d.masterPod, 'redis-1');
  assert.match(d.reasons.join(' | '), /only redis-1 .* answers ROLE master; the others name addresses nobody/);
  assert.deepEqual(decideSentinelMaster(split).master, { host: ip(1), port: P });
  // Both named masters alive (a real split brain): still wait.
  const both = world(2, {
    sentinels: [sentinel(0, 0), sentinel(1, 1), sentinel(2, undefined)],
    roles: { 0: master(), 1: master() },
  });
  assert.equal(decide(both).role, 'wait');
  assert.equal(decideSentinelMaster(both).master, undefined);
});

test('a named master that answers is never overruled by the record: split Sentinels, one names a dead address', () => {
  // redis-1 is terminating mid-handover and still answers ROLE master; the record names this pod, with data.
  const d = decide(
    world(0, {
      pods: [pod(0), pod(1, { terminating: true }), pod(2)],
      sentinels: [
        sentinel(0, 1),
        { ...sentinel(1, 1), master: { host: '10.0.0.99', port: P } },
        sentinel(2, undefined),
      ],
      roles: { 1: master([2]), 2: replicaOf(1) },
      record: { pod: 'redis-0' },
    }),
  );
  assert.notEqual(d.role, 'master', summary(d));
});

test('rule e, the API cannot be read: only a replica of the master a majority of known Sentinels names', () => {
  const self = { host: '10.0.0.11', port: 6379 };
  const m = { host: '10.0.0.10', port: 6379 };
  const view = (master: typeof m | null, extra = {}): SentinelView => ({
    sentinel: { host: '10.0.0.99', port: 26379 },
    reachable: true,
    master,
    ...extra,
  });
  const base: ApiLessObservation = {
    apiError: 'the server is currently unable to handle the request',
    self,
    quorum: 2,
    known: 3,
    sentinels: [view(m), view(m), view(null, { reachable: false })],
    roles: { '10.0.0.10:6379': { answered: true, role: 'master', offset: 1, replicas: [] } },
  };
  const d = decideWithoutApi(base);
  assert.equal(d.role, 'replica');
  assert.deepEqual(d.role === 'replica' && d.master, m);
  assert.match(d.reasons.join('; '), /^the Kubernetes API cannot be read \(the server .*\); sentinels 2\/3 \(known/);
  const waits: [Partial<ApiLessObservation>, RegExp][] = [
    [{ sentinels: [view(m, { reachable: false })] }, /own Sentinel does not answer; waiting for the API/],
    [{ sentinels: [] }, /own Sentinel does not answer/],
    [{ known: 5 }, /no 3 of the 5 Sentinels its own Sentinel knows agree/],
    [{ sentinels: [view(self), view(self)] }, /name this pod, but a master is decided only with the master of record/],
    [{ roles: {} }, /name 10\.0\.0\.10:6379, which does not answer ROLE master/],
    [{ sentinels: [view(m, { failoverInProgress: true }), view(m)] }, /a failover is in progress/],
  ];
  for (const [extra, re] of waits) {
    const w = decideWithoutApi({ ...base, ...extra });
    assert.equal(w.role, 'wait', JSON.stringify(extra));
    assert.match(w.reasons.join('; '), re);
  }
});

test('IPv6 addresses compare in their canonical form, whatever form they were written in', () => {
  assert.equal(canonicalHost('FD0A:0:0::2'), 'fd0a::2');
  assert.equal(canonicalHost('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalHost('redis-0.redis'), 'redis-0.redis');
  assert.ok(sameAddress({ host: 'fd0a:0::2', port: 6379 }, { host: 'fd0a::2', port: 6379 }));
  assert.equal(addr({ host: 'fd0a:0:0:0:0:0:0:2', port: 6379 }), 'fd0a::2:6379');
});
