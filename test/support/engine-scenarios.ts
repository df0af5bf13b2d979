// The core real-process scenarios, on any engine build (test/support/engines.ts): test/engines runs them on Valkey
// 8.0 in `npm test`, test/compat on every build of the matrix (`npm run compat`). Each returns what it measured.
// - Sentinel mode: boot (`launcher role` and `status` name the engine), a killed master failed over and relabelled,
//   the old master back as a replica, a SIGTERM handover, a full restart keeping every key.
// - Cluster mode: formation, a killed master's replica taking over.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { testCluster } from './cluster.ts';
import type { EngineBuild } from './engines.ts';
import { ask, connect } from './redis.ts';
import { healthy, nodesOf } from './redis-cluster.ts';
import { waitFor } from './wait.ts';

const ord = (name: string) => Number(name.split('-').pop());
const KEYS = 2000;

export interface SentinelFigures {
  /** What `launcher role` says the server runs, e.g. "valkey 9.1.2". */
  version: string;
  /** A killed master: from SIGKILL to another pod labelled master (ms). */
  failoverMs: number;
  /** A SIGTERM'd master: from SIGTERM to another pod labelled master (ms). */
  handoverMs: number;
}

export async function sentinelScenario(t: TestContext, b: EngineBuild, name: string): Promise<SentinelFigures> {
  const { c } = await testCluster(t, name, { env: { REDIS_SERVER_BIN: b.server } });
  await c.startAll([0, 1, 2]);
  const first = await c.converged(`3 pods of ${b.label}`, 60_000);
  const role = await c.launcherRole(ord(first));
  const runs = new RegExp(
    `^engine: .*${b.family}-server \\(REDIS_SERVER_BIN=.*\\); runs (${b.family} \\d+\\.\\d+\\.\\d+)$`,
    'm',
  );
  const version = runs.exec(role.stdout)?.[1];
  assert.ok(version, `launcher role names the engine:\n${role.stdout}`);
  // status names each pod's engine and version.
  const st = await c.statusHealthy(ord(first), 30_000);
  for (const i of c.ordinals) {
    assert.ok(st.stdout.split('\n').some((l) => l.startsWith(`${c.pod(i).name} `) && l.includes(` ${version} `)));
  }
  const m = connect(c.pod(ord(first)).ip, 6379);
  t.after(() => m.disconnect());
  const p = m.pipeline();
  for (let k = 0; k < KEYS; k++) p.set(`k:${k}`, String(k));
  await p.exec();
  assert.ok(Number(await m.call('WAIT', '2', '5000')) >= 1, 'replicated');
  m.disconnect();

  // A killed master: Sentinel fails over, the labels follow; it comes back as a replica.
  let t0 = performance.now();
  await c.killPod(ord(first));
  const second = await c.relabelledFrom(first, 30_000);
  const failoverMs = performance.now() - t0;
  await c.recreatePod(ord(first), 'kill');
  assert.equal(await c.converged('the old master back as a replica', 60_000), second);
  // A SIGTERM: the master hands over before it stops.
  t0 = performance.now();
  const stopped = c.stopPod(ord(second));
  const third = await c.relabelledFrom(second, 30_000, 'the handover');
  const handoverMs = performance.now() - t0;
  await stopped;
  await c.startPod(ord(second));
  assert.equal(await c.converged('after the handover', 60_000), third);
  // A full restart, all at once: every key kept.
  await c.stopAll();
  await c.startAll([2, 0, 1]);
  const last = await c.converged('after the full restart', 60_000);
  const r = connect(c.pod(ord(last)).ip, 6379);
  t.after(() => r.disconnect());
  assert.equal(Number(await r.dbsize()), KEYS, 'every key kept');
  return { version, failoverMs, handoverMs };
}

export interface ClusterFigures {
  /** A killed master: from SIGKILL to its replica serving the slots (ms). */
  failoverMs: number;
}

export async function clusterScenario(t: TestContext, b: EngineBuild, name: string): Promise<ClusterFigures> {
  const { c } = await testCluster(t, name, {
    containers: 'redis',
    env: { REDIS_SERVER_BIN: b.server, CLUSTER_MODE: 'true', CLUSTER_MASTERS: '3', CLUSTER_NODE_TIMEOUT_MS: '2000' },
  });
  await c.startAll([0, 1, 2, 3, 4, 5]);
  const ids = await healthy(c, `the cluster of ${b.label} formed`);
  const podOf = new Map([...ids].map(([pod, id]) => [id, ord(pod)]));
  const nodes = (await nodesOf(c, 0))!;
  const replica = nodes.find((n) => n.masterId)!;
  const master = podOf.get(replica.masterId!)!;
  // Killed once the replica has synced (a replica that never did is no candidate, rightly).
  await waitFor(
    'the replica linked to its master',
    async () =>
      /master_link_status:up/.test(String(await ask(c.pod(podOf.get(replica.id)!).ip, 6379, 'INFO', 'replication'))),
    30_000,
    200,
  );
  const t0 = performance.now();
  await c.killPod(master);
  await waitFor(
    'its replica serves the slots',
    async () => (await nodesOf(c, podOf.get(replica.id)!))?.find((n) => n.flags.includes('myself'))?.slots.length,
    30_000,
    100,
  );
  return { failoverMs: performance.now() - t0 };
}
