// The master sets of a dedicated Sentinel (SENTINEL_WATCH_SELECTOR), from the Redis StatefulSets: pure functions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { parseConfig } from '../../src/config/parse.ts';
import { renderSentinelConf, sentinelMonitorCommands } from '../../src/redis/conf.ts';
import { selectorString, setChanges, setConfig, watchedSets } from '../../src/sentinel/rules/sets.ts';
import { holderGone } from '../../src/sentinel/rules/reset-lock.ts';
import type { PodView } from '../../src/model.ts';

const sentinelEnv = {
  POD_NAME: 'sentinel-0',
  POD_NAMESPACE: 'db',
  POD_IP: '10.0.1.1',
  SENTINEL: 'true',
  SENTINEL_POD_SELECTOR: 'app=sentinel',
  SENTINEL_WATCH_SELECTOR: 'redis-ha-launcher/sentinels=shared',
};
const sentinel = parseConfig(sentinelEnv, { launcherPath: '/app/bin/launcher.mjs' });

const sts = (name: string, annotations: Record<string, string> = {}, matchLabels = { app: name }) =>
  ({ metadata: { name, annotations }, spec: { selector: { matchLabels } } }) as unknown as k8s.V1StatefulSet;

test('a watching Sentinel needs SENTINEL_POD_SELECTOR, not REDIS_POD_SELECTOR, and is never a sidecar', () => {
  assert.equal(sentinel.sentinelSidecar, false);
  assert.equal(sentinel.watchSelector, 'redis-ha-launcher/sentinels=shared');
  assert.throws(
    () => parseConfig({ ...sentinelEnv, SENTINEL_POD_SELECTOR: '', REDIS_POD_SELECTOR: 'x=y' }),
    (e: Error) => /^SENTINEL_WATCH_SELECTOR is set but SENTINEL_POD_SELECTOR is not: /.test(e.message),
  );
});

test('each StatefulSet is a set: its name or annotation, its selector, its Lease, its quorum and timings', () => {
  const { sets, problems } = watchedSets(sentinel, [
    sts('redis-a'),
    sts('redis-b', {
      'redis-ha-launcher/master-set': 'orders',
      'redis-ha-launcher/quorum': '3',
      'redis-ha-launcher/down-after-ms': '2000',
      'redis-ha-launcher/failover-timeout-ms': '20000',
      'redis-ha-launcher/master-record': 'orders-lease',
    }),
  ]);
  assert.deepEqual(problems, []);
  assert.deepEqual(sets, [
    {
      statefulSet: 'redis-a',
      masterSet: 'redis-a',
      podSelector: 'app=redis-a',
      masterRecord: 'redis-a-master',
      quorum: 2,
      downAfterMs: 5000,
      failoverTimeoutMs: 10000,
      parallelSyncs: 1,
    },
    {
      statefulSet: 'redis-b',
      masterSet: 'orders',
      podSelector: 'app=redis-b',
      masterRecord: 'orders-lease',
      quorum: 3,
      downAfterMs: 2000,
      failoverTimeoutMs: 20000,
      parallelSyncs: 1,
    },
  ]);
  const b = setConfig(sentinel, sets[1]);
  assert.equal(b.masterSet, 'orders');
  assert.equal(b.sentinelSelector, 'app=sentinel');
  assert.equal(b.sentinelSidecar, false);
});

test('never a guess: a bad annotation, a name two StatefulSets claim, no selector: left out with one line each', () => {
  const { sets, problems } = watchedSets(sentinel, [
    sts('redis-a', { 'redis-ha-launcher/quorum': 'two' }),
    sts('redis-b', { 'redis-ha-launcher/master-set': 'shared' }),
    sts('redis-c', { 'redis-ha-launcher/master-set': 'shared' }),
    sts('redis-d', {}, {} as { app: string }),
    sts('redis-e', { 'redis-ha-launcher/master-set': 'bad name' }),
    sts('redis-f'),
  ]);
  assert.deepEqual(
    sets.map((s) => s.masterSet),
    ['redis-f'],
  );
  assert.deepEqual(problems, [
    'StatefulSet redis-a: redis-ha-launcher/quorum="two" is invalid: expected a whole number of Sentinels, at least 1',
    'StatefulSet redis-d has no pod selector; it is not monitored',
    'StatefulSet redis-e: redis-ha-launcher/master-set="bad name" is invalid: ' +
      "expected letters, digits, '.', '-' or '_'",
    'master set shared is claimed by 2 StatefulSets (redis-b, redis-c); none of them is monitored',
  ]);
});

test('selectors with expressions, and what changed between two looks', () => {
  assert.equal(
    selectorString({
      matchLabels: { app: 'redis' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'old', operator: 'DoesNotExist' },
      ],
    }),
    'app=redis,tier in (a,b),!old',
  );
  const { sets } = watchedSets(sentinel, [sts('redis-a'), sts('redis-c')]);
  const ch = setChanges(new Set(['redis-a', 'redis-b']), sets);
  assert.deepEqual(
    ch.add.map((s) => s.masterSet),
    ['redis-c'],
  );
  assert.deepEqual(ch.gone, ['redis-b']);
});

test('sentinel.conf monitors every set found; a set found later gets MONITOR and SET, never a script', () => {
  const { sets } = watchedSets(sentinel, [sts('redis-a'), sts('redis-b', { 'redis-ha-launcher/quorum': '3' })]);
  const [a, b] = sets.map((s) => setConfig(sentinel, s));
  const conf = renderSentinelConf(sentinel, [
    { set: a, master: { host: '10.0.0.1', port: 6379 } },
    { set: b, master: { host: '10.0.0.2', port: 6379 } },
  ]);
  assert.match(conf, /^sentinel monitor redis-a 10\.0\.0\.1 6379 2$/m);
  assert.match(conf, /^sentinel monitor redis-b 10\.0\.0\.2 6379 3$/m);
  assert.match(conf, /^sentinel client-reconfig-script redis-b \/app\/bin\/launcher-promote$/m);
  assert.equal(conf.match(/^sentinel myid /gm)?.length, 1, 'one Sentinel, one id');
  assert.deepEqual(sentinelMonitorCommands(sentinel, { set: b, master: { host: '10.0.0.2', port: 6379 } }), [
    ['SENTINEL', 'MONITOR', 'redis-b', '10.0.0.2', '6379', '3'],
    [
      'SENTINEL',
      'SET',
      'redis-b',
      'quorum',
      '3',
      'down-after-milliseconds',
      '5000',
      'failover-timeout',
      '10000',
      'parallel-syncs',
      '1',
    ],
  ]);
});

test('hostnames: a pod is its DNS name once it has an IP, and is still found by that IP (mixed modes)', async () => {
  const { podView } = await import('../../src/kube/pods.ts');
  const { podHasHost } = await import('../../src/model.ts');
  const { staleEntries } = await import('../../src/sentinel/sentinel-container/supervisor.ts');
  const pod = (podIP?: string) =>
    ({
      metadata: { name: 'redis-1', namespace: 'db' },
      spec: { hostname: 'redis-1', subdomain: 'redis-headless' },
      status: { phase: 'Running', ...(podIP ? { podIP } : {}) },
    }) as unknown as k8s.V1Pod;
  const named = podView(pod('10.0.0.11'), 'cluster.local');
  assert.equal(named.ip, 'redis-1.redis-headless.db.svc.cluster.local');
  assert.equal(named.podIp, '10.0.0.11');
  assert.equal(podView(pod(), 'cluster.local').ip, undefined, 'no IP yet: no name either (it does not resolve)');
  assert.equal(podView(pod('10.0.0.11')).ip, '10.0.0.11', 'IP mode');
  assert.ok(podHasHost(named, 'redis-1.redis-headless.db.svc.cluster.local'));
  assert.ok(podHasHost(named, '10.0.0.11'), 'a Sentinel that still knows it by IP finds the same pod');
  const known = new Set([named.ip!, named.podIp!]);
  assert.deepEqual(
    staleEntries(
      { flags: [], replicas: ['10.0.0.11', 'redis-1.redis-headless.db.svc.cluster.local'], sentinels: ['10.0.0.99'] },
      known,
    ),
    ['10.0.0.99'],
  );
});

test('the reset Lease: a holder whose pod is gone, recreated or stopped is passed over; a running one is not', () => {
  const p = (name: string, uid: string, phase = 'Running'): PodView => ({
    name,
    ordinal: 0,
    phase,
    ready: true,
    terminating: false,
    uid,
  });
  const pods = [p('redis-0', 'u0'), p('redis-1', 'u1'), p('redis-2', 'u2', 'Failed')];
  assert.equal(holderGone('redis-0_u0', pods), false, 'its own pod, running');
  assert.equal(holderGone('redis-0_old', pods), true, 'recreated under the same name: another uid');
  assert.equal(holderGone('redis-7_u7', pods), true, 'no such pod');
  assert.equal(holderGone('redis-2_u2', pods), true, 'stopped');
  assert.equal(holderGone('redis-1', pods), false, 'a holder by name alone (an older launcher), its pod there');
  assert.equal(holderGone('redis-9', pods), true);
});
