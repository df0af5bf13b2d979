// The core real-process scenarios on Valkey 8.0 (bookworm-backports, unpacked by test/support/tools.ts), as they
// run on Redis 7.0 elsewhere: Sentinel mode (boot, a killed master failed over and relabelled, the old master back
// as a replica, a SIGTERM handover, a full restart keeping every key) and cluster mode (formation, a killed master's
// replica taking over). The launcher finds Valkey's Sentinel, CLI and AOF checker beside REDIS_SERVER_BIN, and
// `launcher role` says which engine runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { VALKEY_80, valkeyMissing } from '../support/engines.ts';
import { ask, connect } from '../support/redis.ts';
import { healthy, nodesOf } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';

const skip = valkeyMissing();
const ord = (name: string) => Number(name.split('-').pop());
const KEYS = 2000;

test('Valkey 8.0, Sentinel mode: failover, return, handover and full restart keep every key', { skip }, async (t) => {
  const { c } = await testCluster(t, 'valkey', { env: { REDIS_SERVER_BIN: VALKEY_80.server } });
  await c.startAll([0, 1, 2]);
  const first = await c.converged('3 Valkey pods', 60_000);
  const role = await c.launcherRole(ord(first));
  assert.match(role.stdout, /^engine: .*valkey-server \(REDIS_SERVER_BIN=.*\); runs valkey 8\.0\.\d+$/m);
  // status names each pod's engine and version.
  const st = await c.statusHealthy(ord(first), 30_000);
  for (const i of c.ordinals) {
    assert.match(st.stdout, new RegExp(`^${c.pod(i).name} .* valkey 8\\.0\\.\\d+ `, 'm'), st.stdout);
  }
  const m = connect(c.pod(ord(first)).ip, 6379);
  t.after(() => m.disconnect());
  const p = m.pipeline();
  for (let k = 0; k < KEYS; k++) p.set(`k:${k}`, String(k));
  await p.exec();
  assert.ok(Number(await m.call('WAIT', '2', '5000')) >= 1, 'replicated');
  m.disconnect();

  // A killed master: Sentinel (valkey-sentinel) fails over, the labels follow; it comes back as a replica.
  await c.killPod(ord(first));
  const second = await c.relabelledFrom(first, 30_000);
  await c.recreatePod(ord(first), 'kill');
  assert.equal(await c.converged('the old master back as a replica', 60_000), second);
  // A SIGTERM: the master hands over before it stops.
  await c.stopPod(ord(second));
  const third = await c.relabelledFrom(second, 30_000, 'the handover');
  await c.startPod(ord(second));
  assert.equal(await c.converged('after the handover', 60_000), third);
  // A full restart, all at once: every key kept.
  await c.stopAll();
  await c.startAll([2, 0, 1]);
  const last = await c.converged('after the full restart', 60_000);
  const r = connect(c.pod(ord(last)).ip, 6379);
  t.after(() => r.disconnect());
  assert.equal(Number(await r.dbsize()), KEYS, 'every key kept');
});

test('Valkey 8.0, cluster mode: formed; a killed master is replaced by its replica', { skip }, async (t) => {
  const { c } = await testCluster(t, 'valkey-cluster', {
    containers: 'redis',
    env: {
      REDIS_SERVER_BIN: VALKEY_80.server,
      CLUSTER_MODE: 'true',
      CLUSTER_MASTERS: '3',
      CLUSTER_NODE_TIMEOUT_MS: '2000',
    },
  });
  await c.startAll([0, 1, 2, 3, 4, 5]);
  const ids = await healthy(c, 'the Valkey cluster formed');
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
  await c.killPod(master);
  await waitFor(
    'its replica serves the slots',
    async () => (await nodesOf(c, podOf.get(replica.id)!))?.find((n) => n.flags.includes('myself'))?.slots.length,
    30_000,
    200,
  );
});
