// `launcher switchover --to <replica>` in Redis Cluster mode: one shard handed over on purpose, with a client that
// keeps its connection to the old master and never sends WAIT: every write it was told OK is on the new master.
// Also what does not apply there says so in one line (pause, a switchover with no target or to a master,
// remove-shard of a shard a scale-down would not remove, a second cluster command at once), and the exec probes
// answer with the cluster's own checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { connect } from '../support/redis.ts';
import { healthy, labelsTrue, nodesOf } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';
import { PinnedWriter } from '../support/writer.ts';

const PODS = [0, 1, 2, 3, 4, 5];

test('cluster mode: a planned switchover of one shard keeps every write a pinned client was told OK', async (t) => {
  const { api, c } = await testCluster(t, 'cluster-switchover', {
    containers: 'redis',
    env: { CLUSTER_MODE: 'true', CLUSTER_NODE_TIMEOUT_MS: '3000', CLUSTER_MASTERS: '3' },
  });
  await c.startAll(PODS);
  const ids = await healthy(c, 'the cluster formed');
  await labelsTrue(c, 'labels equal the roles');
  const podOf = new Map([...ids].map(([pod, id]) => [id, Number(pod.split('-').pop())]));
  const nodes = (await nodesOf(c, 0))!;
  const replicaNode = nodes.find((n) => n.masterId)!;
  const [master, replica] = [podOf.get(replicaNode.masterId!)!, podOf.get(replicaNode.id)!];

  const refused = async (args: string[], why: RegExp) => {
    const r = await c.launcherCommand(0, args);
    assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, why);
    assert.equal(`${r.stdout}${r.stderr}`.trim().split('\n').length, 1, 'one line');
  };
  await refused(['pause'], /^launcher: pause is for Sentinel mode: in cluster mode Redis fails masters over itself/);
  await refused(['switchover'], /switchover needs --to <replica-pod>/);
  await refused(['switchover', '--to', c.pod(master).name], /is not a replica \(it is a master already\)/);
  // remove-shard only on the highest ordinals (what a scale-down removes); one cluster command at a time.
  const far = await c.launcherCommand(0, ['cluster', 'remove-shard', c.pod(master).name]);
  assert.equal(far.exitCode, 2, far.stdout + far.stderr);
  assert.match(far.stderr, /refused: the shard is .* but a scale-down removes the highest ordinals \(redis-5/);
  api.put('leases', {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'mymaster-cluster-admin', namespace: c.ns },
    spec: { holderIdentity: 'redis-3:4242', leaseDurationSeconds: 60, renewTime: new Date().toISOString() },
  });
  const busy = await c.launcherCommand(0, ['cluster', 'rebalance']);
  assert.equal(busy.exitCode, 1, busy.stdout + busy.stderr);
  assert.match(
    busy.stderr,
    /another launcher cluster command holds the Lease mymaster-cluster-admin; nothing was changed/,
  );
  api.deleteObject('leases', c.ns, 'mymaster-cluster-admin');
  for (const [i, want] of [
    [master, /^readiness: ok: a master serving \d+ slots$/],
    [replica, /^readiness: ok: a replica, its link to the master up$/],
  ] as const) {
    const r = await c.launcherCommand(i, ['probe', 'readiness']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout.trim(), want);
  }

  // A client on the old master's address, no WAIT: it keeps writing through the switchover (refused with MOVED
  // once the slots have moved).
  // Its keys all in the master's slots (a hash tag the master serves), so that every write is its to answer.
  const m = connect(c.pod(master).ip, 6379);
  t.after(() => m.disconnect());
  const mine = nodes.find((n) => n.id === replicaNode.masterId)!.slots;
  let tag = 0;
  for (; ; tag++) {
    const slot = Number(await m.call('CLUSTER', 'KEYSLOT', `{t${tag}}`));
    if (mine.some(([a, b]) => slot >= a && slot <= b)) break;
  }
  const writer = new PinnedWriter(c.pod(master).ip, 6379, { wait: false, prefix: `{t${tag}}` });
  writer.start();
  t.after(() => writer.stop());
  await waitFor('writes under way', () => writer.ok.length >= 2000, 10_000);
  const r = await c.launcherCommand(0, ['switchover', '--to', c.pod(replica).name, '--wait']);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`labels follow: ${c.pod(replica).name} master, ${c.pod(master).name} slave`));
  const switched = Date.now();
  await waitFor('the pinned client refused (MOVED)', () => writer.firstRefusal(switched), 10_000);
  await writer.stop();
  // Its one connection stayed open throughout: every refusal is a redirection, none a closed connection.
  assert.deepEqual([...new Set(writer.refusals.map((r) => r.error))], ['MOVED']);
  const told = writer.ok.map((w) => w.key);
  const r2 = connect(c.pod(replica).ip, 6379);
  t.after(() => r2.disconnect());
  const p = r2.pipeline();
  for (const k of told) p.get(k);
  const got = (await p.exec()) ?? [];
  const lost = told.filter((k, i) => got[i]?.[1] !== k.split(':').pop());
  t.diagnostic(`${told.length} writes told OK on the old master, ${lost.length} missing on the new one`);
  assert.deepEqual(lost, [], 'every write told OK is on the new master');
  await healthy(c, 'the cluster whole after the switchover');
});
