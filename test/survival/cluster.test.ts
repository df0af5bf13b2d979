// Redis Cluster mode (`launcher run` with CLUSTER_MODE=true): 6 pods of real redis-server, started all at once
// (they race to form the cluster), on the stand-in API. One pod forms the cluster (a Lease decides); a
// cluster-aware ioredis client writes 10,000 keys, each shard confirming them with WAIT, and goes on writing (each
// write counted once WAIT confirms it) while a master is killed and
// its replica takes over (Redis does), the labels follow; the killed pod comes back with a new IP and rejoins as
// a replica with its node ID; a full restart in random order, every pod with a new IP, keeps every key and every
// node ID; add-shard scales 6 -> 8 and rebalances, remove-shard drains a shard and takes it out again, every
// key kept.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cluster } from 'ioredis';
import { keptLog, testCluster, type LocalCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { confirmed, healthy, labelsTrue, nodesOf, clusterClientWith } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';
import { ClusterWriter } from '../support/writer.ts';

const PODS = [0, 1, 2, 3, 4, 5];
const ord = (name: string) => Number(name.split('-').pop());
const KEYS = 10_000;

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Each master's slots and keys. */
async function masterShares(c: LocalCluster): Promise<{ pod: string; slots: number; keys: number }[]> {
  const out = [];
  for (const i of c.ordinals) {
    const me = (await nodesOf(c, i))?.find((n) => n.flags.includes('myself'));
    if (!me?.flags.includes('master')) continue;
    const slots = me.slots.reduce((n, [a, b]) => n + b - a + 1, 0);
    out.push({ pod: c.pod(i).name, slots, keys: Number(await ask(c.pod(i).ip, 6379, 'DBSIZE')) });
  }
  return out;
}

test(
  'cluster mode: 6 pods form one cluster; a master killed, its replica takes over; back with a new IP under its ' +
    'node ID; a full restart keeps every key and node ID',
  async (t) => {
    const { api, c } = await testCluster(t, 'cluster', {
      containers: 'redis',
      env: { CLUSTER_MODE: 'true', CLUSTER_NODE_TIMEOUT_MS: '3000', CLUSTER_MASTERS: '3' },
    });
    await c.startAll(PODS);
    const ids = await healthy(c, 'the cluster formed');
    const lease = api.getObject('leases', c.ns, 'mymaster-cluster');
    assert.ok(lease?.spec?.holderIdentity, 'one pod formed it, holding the Lease');
    const nodes = (await nodesOf(c, 0))!;
    const masters = nodes.filter((n) => n.flags.includes('master'));
    assert.equal(masters.length, 3, 'three masters');
    for (const m of masters) {
      assert.equal(nodes.filter((n) => n.masterId === m.id).length, 1, `master ${m.id} has one replica`);
    }
    const labels = await labelsTrue(c, 'labels equal the roles');
    assert.equal(Object.values(labels).filter((l) => l === 'master').length, 3);
    const healthyStatus = await c.statusHealthy(2);
    assert.equal(healthyStatus.exitCode, 0, healthyStatus.stdout + healthyStatus.stderr);
    assert.match(healthyStatus.stdout, /verdict: healthy \(3 masters, 16384 slots served\)/);
    const pod0 = api.getObject('pods', c.ns, c.pod(0).name);
    assert.equal(pod0?.metadata.annotations?.['redis-ha-launcher/cluster-node-id'], ids.get(c.pod(0).name));

    // A cluster-aware client writes 10,000 keys; every shard confirms them (WAIT 1).
    const client = await clusterClientWith(t, c, KEYS);
    await confirmed(c);
    // ... and goes on writing through the failover and the return, each write counted once WAIT confirms it.
    const writer = new ClusterWriter(client);
    t.after(() => writer.stop());

    // A master killed (every process of its pod, as when its node dies): its replica takes over.
    const victim = c.ordinals.find((i) => labels[c.pod(i).name] === 'master')!;
    const victimName = c.pod(victim).name;
    const victimId = ids.get(victimName)!;
    const replicaId = nodes.find((n) => n.masterId === victimId)!.id;
    const replicaPod = [...ids].find(([, id]) => id === replicaId)![0];
    // A replica still (re)syncing is too stale to be elected (cluster-replica-validity-factor): in sync first.
    await waitFor(
      `${replicaPod} in sync`,
      async () =>
        /master_link_status:up/.test(String(await ask(c.pod(ord(replicaPod)).ip, 6379, 'INFO', 'replication'))),
      30_000,
      100,
    );
    const k0 = Date.now();
    await c.killPod(victim);
    await waitFor(
      'the replica took over and is labelled master',
      async () => {
        const r = c.ordinals.find((i) => c.pod(i).name === replicaPod)!;
        const me = (await nodesOf(c, r))?.find((n) => n.flags.includes('myself'));
        return me?.flags.includes('master') && c.labels()[replicaPod] === 'master';
      },
      30_000,
      100,
    );
    t.diagnostic(`killed master ${victimName}: ${replicaPod} took over, labelled master after ${Date.now() - k0} ms`);
    // Some member relabels the dead pod in its own cycle, a patch of its own after the new master's: not at once.
    await waitFor(
      'the killed master is no longer labelled master',
      async () => c.labels()[victimName] !== 'master',
      20_000,
      100,
    );
    const degraded = await c.launcherCommand(ord(replicaPod), ['status']);
    assert.equal(degraded.exitCode, 1, degraded.stdout + degraded.stderr);
    assert.match(degraded.stdout, new RegExp(`verdict: degraded: ${victimName}'s Redis does not answer`));
    assert.match(degraded.stdout, new RegExp(`master ${replicaPod} \\(\\d+ slots\\) has no replica`));

    // It comes back as a new pod with a new IP: it rejoins under its node ID, as a replica.
    api.deleteObject('pods', c.ns, victimName);
    await c.startPod(victim, { newIp: true });
    const back = await healthy(c, 'the old master rejoined');
    assert.equal(back.get(victimName), victimId, 'the same node ID');
    const me = (await nodesOf(c, victim))?.find((n) => n.flags.includes('myself'));
    assert.ok(me?.flags.includes('slave'), 'it came back as a replica');
    await labelsTrue(c, 'labels true after the return');
    assert.equal(await client.get(`k:${KEYS - 1}`), String(KEYS - 1), 'the client reads through the new master');

    // SIGTERM to a master (a rolling update, a drain): it hands its slots to its replica first (CLUSTER FAILOVER),
    // so the shard is without a master for far less than the node timeout a dead master costs.
    const now = (await nodesOf(c, 0))!;
    const [termName, termId] = [...back].find(([, id]) => now.find((n) => n.id === id)?.flags.includes('master'))!;
    const heirId = now.find((n) => n.masterId === termId)!.id;
    const heir = ord([...back].find(([, id]) => id === heirId)![0]);
    await waitFor(
      `${c.pod(heir).name} in sync`,
      async () => /master_link_status:up/.test(String(await ask(c.pod(heir).ip, 6379, 'INFO', 'replication'))),
      30_000,
      100,
    );
    const s0 = Date.now();
    const stopping = c.stopPod(ord(termName));
    const tookOver = await waitFor(
      `${c.pod(heir).name} takes over from ${termName}`,
      async () => {
        const me = (await nodesOf(c, heir))?.find((n) => n.flags.includes('myself'));
        return me?.flags.includes('master') ? Date.now() - s0 : undefined;
      },
      20_000,
      20,
    );
    const stopped = await stopping;
    t.diagnostic(`SIGTERM to master ${termName}: ${c.pod(heir).name} took over after ${tookOver} ms`);
    assert.equal(stopped.redis, 0, 'the launcher exited 0');
    assert.ok(tookOver < 3000, `handed over within the 3000 ms node timeout: ${tookOver} ms`);
    const kept = JSON.parse(
      await readFile(join(c.pod(ord(termName)).dir, 'data', '.redis-ha-launcher-handover.json'), 'utf8'),
    );
    assert.equal(kept.result, 'done', `the handover is kept as done: ${kept.why}`);
    assert.equal(c.labels()[termName], 'slave', 'the stopped pod is no longer labelled master');
    assert.ok(
      api.listObjects('events', c.ns).some((e) => e.reason === 'HandedOver' && e.involvedObject?.name === termName),
      'a HandedOver Event',
    );
    api.deleteObject('pods', c.ns, termName);
    await c.startPod(ord(termName), { newIp: true });
    const rejoined = await healthy(c, `${termName} rejoined after its handover`);
    assert.equal(rejoined.get(termName), termId, 'the same node ID');
    await labelsTrue(c, 'labels true after the handover');
    await writer.stop();
    const values = await Promise.all(writer.confirmed.map((k) => client.get(k)));
    const lost = writer.confirmed.filter((k, i) => values[i] !== k.slice(5));
    t.diagnostic(`writes during the failover: ${writer.confirmed.length} confirmed, ${writer.failures} not`);
    assert.ok(writer.confirmed.length > 100, 'the writer got writes through');
    assert.deepEqual(lost, [], 'no write a replica confirmed was lost');
    client.disconnect();

    // A full restart, random order, every pod with a new IP.
    await Promise.all(c.ordinals.map((i) => c.stopPod(i)));
    for (const i of c.ordinals) api.deleteObject('pods', c.ns, c.pod(i).name);
    const order = [...PODS].sort(() => Math.random() - 0.5);
    for (const i of order) await c.startPod(i, { newIp: true });
    const after = await healthy(c, 'the cluster after a full restart', 90_000);
    assert.deepEqual(Object.fromEntries(after), Object.fromEntries(rejoined), 'every node ID kept');
    await labelsTrue(c, 'labels true after the full restart');
    const fresh = new Cluster([{ host: c.pod(order[0]).ip, port: 6379 }]);
    fresh.on('error', () => {});
    t.after(() => fresh.disconnect());
    let count = 0;
    for (const i of c.ordinals) {
      const m = (await nodesOf(c, i))?.find((n) => n.flags.includes('myself'));
      if (m?.flags.includes('master')) count += Number(await ask(c.pod(i).ip, 6379, 'DBSIZE'));
    }
    // Every key written before and every write confirmed during the failover (a write not confirmed may be there).
    assert.ok(count >= KEYS + writer.confirmed.length, `every key kept (order ${order.join(',')}): ${count}`);
    const again = await Promise.all(writer.confirmed.map((k) => fresh.get(k)));
    assert.deepEqual(
      writer.confirmed.filter((k, i) => again[i] !== k.slice(5)),
      [],
      'every confirmed write kept through the full restart',
    );
    assert.equal(await fresh.get(`k:${KEYS - 1}`), String(KEYS - 1));

    // Scale out 6 -> 8: two new pods wait (never joined implicitly) until add-shard makes them a shard.
    await c.startPod(6);
    await c.startPod(7);
    await waitFor(
      'redis-6 says it waits to be added',
      async () => /and this pod is not in it; it joins only when asked/.test((await c.launcherRole(6)).stdout),
      30_000,
      500,
    );
    const add = await c.launcherCommand(0, ['cluster', 'add-shard', 'redis-6', 'redis-7']);
    assert.equal(add.exitCode, 0, `${add.stdout}\n${add.stderr}`);
    const added = await healthy(c, 'the cluster of 8', 60_000, 8);
    const shares = await masterShares(c);
    assert.equal(shares.length, 4, 'four masters');
    assert.ok(
      shares.every((s) => s.slots >= 4000),
      `slots rebalanced: ${JSON.stringify(shares)}`,
    );
    const total = count;
    assert.equal(sum(shares.map((s) => s.keys)), total, 'every key kept while slots moved');
    // ... and back to 6: the shard drained, then removed; the pods go, and the Lease no longer records their nodes.
    const recorded = () => api.getObject('leases', c.ns, 'mymaster-cluster')?.metadata.annotations ?? {};
    await waitFor('redis-6 recorded', () => recorded()['node-id.redis-ha-launcher/redis-6'], 10_000);
    // redis-7's node dies (its Pod object stays): a ghost replica, which remove-shard forgets on every member.
    await c.killPod(7);
    await waitFor(
      'the cluster fails redis-7',
      async () => (await nodesOf(c, 0))?.some((n) => n.id === added.get('redis-7') && n.flags.includes('fail')),
      30_000,
      250,
    );
    const remove = await c.launcherCommand(0, ['cluster', 'remove-shard', 'redis-6']);
    assert.equal(remove.exitCode, 0, `${remove.stdout}\n${remove.stderr}`);
    assert.equal(recorded()['node-id.redis-ha-launcher/redis-6'], undefined, 'no record of redis-6');
    assert.equal(recorded()['node-id.redis-ha-launcher/redis-7'], undefined, 'no record of redis-7');
    await c.scaleDown(6);
    await healthy(c, 'the cluster of 6 again', 60_000, 6);
    const back6 = await masterShares(c);
    assert.equal(back6.length, 3, 'three masters');
    assert.equal(sum(back6.map((s) => s.keys)), total, 'every key kept after the shard was drained');
  },
);

test(
  'cluster mode: the pod that won the bootstrap Lease forms the cluster; a master left without replicas gets one ' +
    'from a master with two (replica migration)',
  async (t) => {
    const { api, c } = await testCluster(t, 'cluster-race', {
      containers: 'redis',
      env: {
        CLUSTER_MODE: 'true',
        CLUSTER_NODE_TIMEOUT_MS: '2000',
        CLUSTER_MASTERS: '2',
        CLUSTER_REPLICAS_PER_MASTER: '2',
      },
    });
    // redis-1 won the race for the Lease (it did not see redis-0 yet): it, not the lowest ordinal, forms it.
    api.put('leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'mymaster-cluster', namespace: c.ns },
      spec: { holderIdentity: 'redis-1' },
    });
    await c.startAll(PODS);
    await healthy(c, 'one cluster formed');
    // The Event is written after the cluster is whole (never waited for): it may come a moment later.
    const formed = await waitFor(
      'the ClusterFormed Event',
      () => {
        const e = api.listObjects('events', c.ns).filter((x) => x.reason === 'ClusterFormed');
        return e.length ? e : undefined;
      },
      10_000,
    );
    assert.deepEqual(
      formed.map((e) => e.involvedObject?.name),
      ['redis-1'],
      'formed once, by the Lease holder',
    );
    const nodes = (await nodesOf(c, 0))!;
    const masters = nodes.filter((n) => n.flags.includes('master'));
    assert.equal(masters.length, 2);
    // Both replicas of one master die: it is left without one; Redis moves one of the other master's two to it.
    const [orphan, donor] = masters;
    const pods = new Map([...(await healthy(c, 'ids'))].map(([pod, id]) => [id, pod]));
    const replicas = nodes.filter((n) => n.masterId === orphan.id).map((n) => pods.get(n.id)!);
    for (const r of replicas) await c.killPod(Number(r.split('-').pop()));
    const moved = await waitFor(
      'the orphaned master has a replica again',
      async () => {
        const i = Number(pods.get(donor.id)!.split('-').pop());
        const now = (await nodesOf(c, i)) ?? [];
        return now.find((n) => n.masterId === orphan.id && !n.flags.includes('fail'));
      },
      30_000,
      250,
    );
    t.diagnostic(`${pods.get(moved.id)} moved from ${pods.get(donor.id)} to ${pods.get(orphan.id)}`);
  },
);

test('cluster mode: the Lease holder killed half-way through the bootstrap finishes it with a new IP', async (t) => {
  // Each pod on its own node, three zones repeating with the ordinals: by ordinal alone each replica would be in
  // its master's zone.
  const { api, c } = await testCluster(t, 'cluster-resume', {
    containers: 'redis',
    env: { CLUSTER_MODE: 'true', CLUSTER_NODE_TIMEOUT_MS: '3000', CLUSTER_MASTERS: '3' },
    placement: (i) => ({ node: `node-${i}`, zone: `zone-${i % 3}` }),
  });
  await c.startAll(PODS);
  // redis-5, the plan's last replica, refuses CLUSTER REPLICATE (its ACL, set as soon as it answers): the holder's
  // bootstrap stops at its last step, after the MEETs, every slot and the other replicas.
  await waitFor(
    'redis-5 refuses CLUSTER REPLICATE',
    async () => (await ask(c.pod(5).ip, 6379, 'ACL', 'SETUSER', 'default', '-cluster|replicate')) === 'OK',
    30_000,
    5,
  );
  const lease = () => api.getObject('leases', c.ns, 'mymaster-cluster');
  const holder = await waitFor('a Lease holder', () => lease()?.spec?.holderIdentity as string | undefined, 30_000);
  const other = PODS.find((i) => i !== ord(holder) && i !== 5)!;
  await waitFor(
    'every slot assigned and two replicas attached (the bootstrap half-way)',
    async () => {
      const info = String(await ask(c.pod(other).ip, 6379, 'CLUSTER', 'INFO'));
      const nodes = (await nodesOf(c, other)) ?? [];
      return /cluster_slots_assigned:16384/.test(info) && nodes.filter((n) => n.masterId).length === 2;
    },
    60_000,
    50,
  );
  await c.killPod(ord(holder));
  assert.equal(lease()?.metadata.annotations?.['redis-ha-launcher/cluster-formed'], undefined, 'not formed yet');
  assert.equal(await ask(c.pod(5).ip, 6379, 'ACL', 'SETUSER', 'default', '+cluster|replicate'), 'OK');
  api.deleteObject('pods', c.ns, holder);
  await c.startPod(ord(holder), { newIp: true });
  await healthy(c, 'the cluster whole', 90_000);
  await waitFor(
    'each master with one replica (the holder finished its bootstrap)',
    async () => {
      const nodes = (await nodesOf(c, other)) ?? [];
      const masters = nodes.filter((n) => n.flags.includes('master') && n.slots.length);
      return masters.length === 3 && masters.every((m) => nodes.filter((n) => n.masterId === m.id).length === 1);
    },
    30_000,
    200,
  );
  const formed = await waitFor(
    'the Lease records the cluster formed',
    () => lease()?.metadata.annotations?.['redis-ha-launcher/cluster-formed'],
    10_000,
  );
  t.diagnostic(`${holder} killed half-way; the cluster was formed at ${formed}`);
  const nodes = (await nodesOf(c, other)) ?? [];
  const podOf = new Map([...(await healthy(c, 'ids'))].map(([pod, id]) => [id, ord(pod)]));
  for (const r of nodes.filter((n) => n.masterId)) {
    const [ri, mi] = [podOf.get(r.id)!, podOf.get(r.masterId!)!];
    assert.notEqual(ri % 3, mi % 3, `redis-${ri} follows redis-${mi} in another zone`);
  }
  const st = await c.statusHealthy(other);
  assert.equal(st.exitCode, 0, st.stdout + st.stderr);
  assert.match(st.stdout, /^POD +NODE +ZONE +IP/m);
  const events = api.listObjects('events', c.ns).filter((x) => x.reason === 'ClusterFormed');
  assert.deepEqual(
    events.map((e) => e.involvedObject?.name),
    [holder],
    'formed once, by the holder',
  );
});

test('cluster mode: two pods that both think they are first race for the bootstrap Lease; one cluster', async (t) => {
  const kept = keptLog();
  const { api, c } = await testCluster(t, 'cluster-claims', {
    containers: 'redis',
    log: kept.log,
    env: { CLUSTER_MODE: 'true', CLUSTER_NODE_TIMEOUT_MS: '3000', CLUSTER_MASTERS: '3' },
  });
  // Seven pods, six wanted. redis-0 is late: redis-1 sees six fresh pods, is the lowest of them and claims the
  // Lease, but its claims reach the API late (a slow apiserver): each is held until another claim has landed (a
  // claim held past the launcher's 5 s API timeout is given up by it and sent again, and held again) ...
  const lease = () => api.getObject('leases', c.ns, 'mymaster-cluster');
  const claims = api.faults.add({
    method: 'POST',
    path: `/apis/coordination.k8s.io/v1/namespaces/${c.ns}/leases`,
    body: '"holderIdentity":"redis-1"',
    delayMs: 60_000,
    delayWhen: 'request',
    until: () => lease() !== undefined,
  });
  await c.startAll([1, 2, 3, 4, 5, 6]);
  await waitFor('redis-1 claims the Lease', () => claims.hits >= 1, 30_000, 20);
  // ... and meanwhile redis-0 starts, sees seven fresh pods, no Lease and itself the lowest: it claims it too.
  await c.startPod(0);
  await waitFor('redis-0 claimed the Lease', () => lease()?.spec?.holderIdentity === 'redis-0', 30_000, 20);
  const formed = await waitFor(
    'one cluster of six',
    async () => {
      const infos = await Promise.all(
        c.ordinals.map(async (i) => String(await ask(c.pod(i).ip, 6379, 'CLUSTER', 'INFO'))),
      );
      const members = infos.filter((x) => /cluster_state:ok/.test(x) && /cluster_known_nodes:6\b/.test(x));
      const alone = infos.filter((x) => /cluster_known_nodes:1\b/.test(x));
      if (members.length !== 6 || alone.length !== 1) return undefined;
      const e = api.listObjects('events', c.ns).filter((x) => x.reason === 'ClusterFormed');
      return e.length ? e : undefined;
    },
    60_000,
    250,
  );
  const holder = lease()?.spec?.holderIdentity;
  assert.deepEqual(
    formed.map((e) => e.involvedObject?.name),
    [holder],
    'formed once, by the pod whose claim landed first',
  );
  assert.equal(holder, 'redis-0', "redis-1's claims landed only after redis-0's");
  // redis-1 says it lost when a held claim is answered 409 while it still waits for it; under load its claim may
  // have been given up (5 s API timeout) and redis-0's MEET may reach it before it looks again: then it simply is a
  // member. Either way it formed nothing (the Events above).
  const lost = /another pod holds the Lease mymaster-cluster|redis-0 \(it holds the bootstrap Lease\) forms/;
  const said = kept.lines.find((l) => l.startsWith('[redis-1]') && lost.test(l));
  t.diagnostic(`redis-0 formed the cluster; redis-1's claims were held ${claims.hits} times; it said: ${said ?? '-'}`);
});
