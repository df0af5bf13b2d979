// The monitoring component's alerts, evaluated by promtool: each fires on the metrics of its case and names who is
// at fault. The cases' scrapes come from the launcher's own metric registries set as its supervisors set them; the
// failed handover is a real one (a master stopped while no Sentinel answers), scraped from the pod's next run. The
// healthy set's real scrape staying silent is in supervisor.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { inputSeries, testRules, type AlertCase, type RuleTest, type Scrape } from '../support/promtool.ts';
import { createRedisMetrics, createSentinelMetrics, setRole, type RedisMetrics } from '../../src/runtime/metrics.ts';
import type { SentinelMetrics } from '../../src/runtime/metrics.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'redis';
type Change = { redis?: (m: RedisMetrics) => void; sentinel?: (m: SentinelMetrics) => void };

/** A healthy set of three (redis-0 master), with `changes` applied per pod ordinal. */
async function set(changes: Record<number, Change> = {}): Promise<Scrape[]> {
  const out: Scrape[] = [];
  for (const i of [0, 1, 2]) {
    const role = i === 0 ? 'master' : 'slave';
    const r = createRedisMetrics();
    setRole(r, role);
    r.ready.set(1);
    r.labelMatchesRole.set(1);
    r.labelledMaster.set(role === 'master' ? 1 : 0);
    r.masterLinkUp.set(1);
    r.lag.set(0);
    r.paused.set(0);
    changes[i]?.redis?.(r);
    const s = createSentinelMetrics();
    setRole(s, 'sentinel');
    s.sentinelQuorumOk.set(1);
    changes[i]?.sentinel?.(s);
    const pod = `redis-${i}`;
    out.push({ text: await r.registry.metrics(), target: { namespace: NS, pod, container: 'redis' } });
    out.push({ text: await s.registry.metrics(), target: { namespace: NS, pod, container: 'sentinel' } });
  }
  return out;
}

/** Healthy until minute 5, then `fault`: silent at `quiet`, firing `alerts` at `firing` (minutes). */
async function fault(
  alertname: string,
  changes: Record<number, Change>,
  alerts: AlertCase['exp_alerts'],
  at: { quiet: number; firing: number; minutes?: number } = { quiet: 4, firing: 10 },
): Promise<RuleTest> {
  const timeline = [
    { at: 0, scrapes: await set() },
    { at: 5, scrapes: await set(changes) },
  ];
  return {
    input_series: inputSeries(timeline, at.minutes ?? 30),
    alert_rule_test: [
      { eval_time: `${at.quiet}m`, alertname, exp_alerts: [] },
      { eval_time: `${at.firing}m`, alertname, exp_alerts: alerts },
    ],
  };
}

const who = (pod: string, container = 'redis') => ({ namespace: NS, pod, container });

test('each alert fires on the metrics of its case, names the pod or the namespace, and not before', async () => {
  const tests = [
    await fault('RedisHANoReadyMaster', { 0: { redis: (m) => m.ready.set(0) } }, [
      {
        exp_labels: { namespace: NS, severity: 'critical' },
        exp_annotations: { summary: 'No Ready Redis master in redis: writes through the master Service fail' },
      },
    ]),
    // The master's Redis stopped answering (its ROLE is unknown) and no other pod became master yet.
    await fault('RedisHANoReadyMaster', { 0: { redis: (m) => setRole(m, 'unknown') } }, [
      {
        exp_labels: { namespace: NS, severity: 'critical' },
        exp_annotations: { summary: 'No Ready Redis master in redis: writes through the master Service fail' },
      },
    ]),
    await fault('RedisHAMultipleMasterLabels', { 1: { redis: (m) => m.labelledMaster.set(1) } }, [
      {
        exp_labels: { namespace: NS, severity: 'critical' },
        exp_annotations: { summary: '2 pods in redis are labelled redis-role=master' },
      },
    ]),
    await fault('RedisHALabelDisagreesWithRole', { 1: { redis: (m) => m.labelMatchesRole.set(0) } }, [
      {
        exp_labels: { ...who('redis-1'), severity: 'warning' },
        exp_annotations: { summary: 'The redis-role label of redis-1 disagrees with the ROLE its Redis reports' },
      },
    ]),
    await fault('RedisHAReplicaLag', { 2: { redis: (m) => m.lag.set(3 * 1024 * 1024) } }, [
      {
        exp_labels: { ...who('redis-2'), severity: 'warning' },
        exp_annotations: { summary: 'Replica redis-2 lags its master by 3MiB' },
      },
    ]),
    await fault('RedisHAMasterLinkDown', { 1: { redis: (m) => m.masterLinkUp.set(0) } }, [
      {
        exp_labels: { ...who('redis-1'), severity: 'warning' },
        exp_annotations: { summary: 'Replica redis-1 has no connected link to its master' },
      },
    ]),
    await fault('RedisHASentinelWithoutQuorum', { 2: { sentinel: (m) => m.sentinelQuorumOk.set(0) } }, [
      {
        exp_labels: { ...who('redis-2', 'sentinel'), severity: 'critical' },
        exp_annotations: {
          summary: 'The Sentinel of redis-2 cannot reach a quorum (SENTINEL CKQUORUM): no failover possible',
        },
      },
    ]),
    await fault('RedisHASplitBrainHealed', { 1: { redis: (m) => m.heals.inc() } }, [
      {
        exp_labels: { ...who('redis-1'), severity: 'warning' },
        exp_annotations: {
          summary: 'redis-1 was a stale second master and was made a replica (writes to it were lost)',
        },
      },
    ]),
    await fault('RedisHAMasterFenced', { 0: { redis: (m) => m.fenced.set(1) } }, [
      {
        exp_labels: { ...who('redis-0'), severity: 'critical' },
        exp_annotations: {
          summary: 'Master redis-0 has paused its writes: no majority of the Sentinels names it (partition?)',
        },
      },
    ]),
    await fault(
      'RedisHAPaused',
      Object.fromEntries([0, 1, 2].map((i) => [i, { redis: (m: RedisMetrics) => m.paused.set(1) }])),
      [
        {
          exp_labels: { namespace: NS, severity: 'info' },
          exp_annotations: {
            summary: 'The Redis set in redis has been in maintenance mode (launcher pause) for 1 h',
          },
        },
      ],
      { quiet: 60, firing: 70, minutes: 80 },
    ),
  ];
  const r = await testRules(tests);
  assert.ok(r.ok, r.output);
});

test('a master stopped while no Sentinel answers: its next run reports it; RedisHAHandoverFailed fires', async (t) => {
  const { c } = await testCluster(t, 'alerts');
  await c.startAll();
  const master = Number((await c.converged('set converged', 40_000)).split('-').pop());
  const p = c.pod(master);
  // Both replicas in sync, so that the master attempts a handover rather than skipping it.
  await ask(p.ip, 6379, 'SET', 'k', 'v');
  await waitFor('both replicas have the key', async () => {
    const got = await Promise.all([0, 1, 2].filter((i) => i !== master).map((i) => ask(c.pod(i).ip, 6379, 'GET', 'k')));
    return got.every((v) => v === 'v');
  });
  for (const i of [0, 1, 2]) await c.pod(i).sentinel?.stop(10_000);
  await p.redis?.stop(25_000);
  await c.startPod(master);
  const scrape = await waitFor(
    'the restarted redis container reports the previous handover',
    async () => {
      const takenAt = Date.now();
      const text = await fetch(`http://${p.ip}:8080/metrics`).then((r) => r.text());
      return /^redis_ha_previous_handover_timestamp_seconds\{result="failed"\} /m.test(text)
        ? { text, takenAt, target: { namespace: NS, pod: p.name, container: 'redis' } }
        : undefined;
    },
    30_000,
  );
  const alertname = 'RedisHAHandoverFailed';
  const r = await testRules([
    {
      input_series: inputSeries([{ at: 0, scrapes: [scrape] }], 60),
      alert_rule_test: [
        {
          eval_time: '5m',
          alertname,
          exp_alerts: [
            {
              exp_labels: { namespace: NS, pod: p.name, result: 'failed', severity: 'warning' },
              exp_annotations: { summary: `${p.name} stopped as master without handing over (failed)` },
            },
          ],
        },
        { eval_time: '40m', alertname, exp_alerts: [] },
      ],
    },
  ]);
  assert.ok(r.ok, r.output);
});
