// Redis Cluster mode, a plain `kubectl scale` down (no remove-shard first; podManagementPolicy Parallel: the master
// and the replica of the shard on the highest ordinals get SIGTERM together). The master drains its slots to the
// masters that stay before it goes, and both leave the cluster (every member forgets them), while a client that
// keeps its connections writes without WAIT: every write acknowledged is kept. When the drain cannot run, the
// master goes with its slots (its volume keeps them): a Warning Event, and `status` says to scale back, then
// remove-shard, which then works (its replica, which left, comes back fresh and goes with it). A replica added
// after the bootstrap (add-replica) leaves the same way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster } from 'ioredis';
import { testCluster, type LocalCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { healthy, labelsTrue, nodesOf, clusterClientWith } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';

const KEYS = 3000;

/** Keys held by the masters, in all. */
async function keysOnMasters(c: LocalCluster): Promise<number> {
  let n = 0;
  for (const i of c.ordinals) {
    const me = (await nodesOf(c, i))?.find((x) => x.flags.includes('myself'));
    if (me?.flags.includes('master')) n += Number(await ask(c.pod(i).ip, 6379, 'DBSIZE'));
  }
  return n;
}

/** Writes without WAIT, on connections it keeps, and counts every write Redis acknowledged. */
function noWaitWriter(client: Cluster) {
  const acked: string[] = [];
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      const key = `nw:${n}`;
      try {
        if ((await client.set(key, String(n))) === 'OK') acked.push(key);
        // About 200 writes a second: enough to meet every moment of the drain, not so many keys that moving them
        // outlasts the handover's time on a loaded machine.
        await new Promise((r) => setTimeout(r, 5));
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  return {
    acked,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function addShard(c: LocalCluster): Promise<void> {
  await c.startPod(6);
  await c.startPod(7);
  await waitFor('redis-7 answers', async () => (await ask(c.pod(7).ip, 6379, 'PING')) === 'PONG', 30_000);
  const add = await c.launcherCommand(0, ['cluster', 'add-shard', 'redis-6', 'redis-7']);
  assert.equal(add.exitCode, 0, `${add.stdout}\n${add.stderr}`);
  await healthy(c, 'the cluster of 8', 60_000, 8);
}

test(
  'cluster mode: kubectl scale 8 -> 6 drains the shard that goes, every acknowledged write kept; a drain that ' +
    'cannot run leaves a Warning and status advice that works',
  async (t) => {
    const { api, c } = await testCluster(t, 'cluster-scalein', {
      containers: 'redis',
      // The drain has the handover's time: 20 s here (the harness stops a pod with SIGKILL after 25 s), for a
      // loaded machine; the default 15 s drains this shard in 8-10 s on an idle one.
      env: {
        CLUSTER_MODE: 'true',
        CLUSTER_NODE_TIMEOUT_MS: '2000',
        CLUSTER_MASTERS: '3',
        HANDOVER_TIMEOUT_MS: '20000',
      },
    });
    await c.startAll([0, 1, 2, 3, 4, 5]);
    await healthy(c, 'the cluster formed');
    await addShard(c);
    const client = await clusterClientWith(t, c, KEYS);
    const writer = noWaitWriter(client);
    t.after(() => writer.stop());
    await waitFor('the writer writes', () => writer.acked.length > 100, 10_000);

    // kubectl scale --replicas=6: redis-6 (a master serving slots) and redis-7 (its replica) go at once.
    const t0 = Date.now();
    await c.scaleDown(6, { parallel: true });
    t.diagnostic(`scale-in 8 -> 6 with the drain: the pods were gone after ${Date.now() - t0} ms`);
    await healthy(c, 'the cluster of 6, the leavers forgotten everywhere', 60_000, 6);
    await writer.stop();
    const values = await Promise.all(writer.acked.map((k) => client.get(k)));
    t.diagnostic(`writes during the scale-in: ${writer.acked.length} acknowledged (no WAIT)`);
    assert.deepEqual(
      writer.acked.filter((k, i) => values[i] !== k.slice(3)),
      [],
      'every acknowledged write kept',
    );
    assert.equal(await keysOnMasters(c), KEYS + writer.acked.length, 'every key kept');
    const drained = api.listObjects('events', c.ns).find((e) => e.reason === 'ScaleInDrained');
    assert.equal(drained?.involvedObject?.name, 'redis-6', 'a ScaleInDrained Event on redis-6');
    const st = await c.statusHealthy(0);
    assert.equal(st.exitCode, 0, st.stdout + st.stderr);
    await labelsTrue(c, 'labels true after the scale-in');

    // Again, but redis-6 cannot move keys (MIGRATE denied to it): it goes with its slots, saying so.
    await addShard(c);
    assert.equal(await ask(c.pod(6).ip, 6379, 'ACL', 'SETUSER', 'default', '-migrate'), 'OK');
    await c.scaleDown(6, { parallel: true });
    const warning = api.listObjects('events', c.ns).find((e) => e.reason === 'ScaleInNotDrained');
    assert.equal(warning?.involvedObject?.name, 'redis-6', 'a ScaleInNotDrained Warning on redis-6');
    assert.equal(warning?.type, 'Warning');
    const advice = await waitFor(
      'status names the slots the scale-down took',
      async () => {
        const r = await c.launcherCommand(0, ['status']);
        return /belong to redis-6, removed by a scale-down: scale back/.test(r.stdout) ? r.stdout : undefined;
      },
      30_000,
      500,
    );
    assert.match(advice, /then launcher cluster remove-shard redis-6/);
    // As advised: scale back (the volumes were kept), then remove-shard.
    await c.startPod(6);
    await c.startPod(7);
    // Its replica left the cluster (its master left too, with the data on its volume): redis-6 comes back under its
    // node ID with its slots, redis-7 fresh.
    await waitFor(
      'redis-6 back with its slots, the cluster whole',
      async () => {
        const info = String(await ask(c.pod(0).ip, 6379, 'CLUSTER', 'INFO'));
        const six = (await nodesOf(c, 6))?.find((n) => n.flags.includes('myself'));
        return /cluster_state:ok/.test(info) && /cluster_known_nodes:7\b/.test(info) && six?.slots.length;
      },
      60_000,
      250,
    );
    const remove = await c.launcherCommand(0, ['cluster', 'remove-shard', 'redis-6']);
    assert.equal(remove.exitCode, 0, `${remove.stdout}\n${remove.stderr}`);
    await c.scaleDown(6, { parallel: true });
    await healthy(c, 'the cluster of 6 again', 60_000, 6);
    assert.equal(await keysOnMasters(c), KEYS + writer.acked.length, 'every key kept');

    // More replicas per shard after the bootstrap, and fewer again: add-replica, then a plain scale-down.
    await c.startPod(6);
    await waitFor('redis-6 answers', async () => (await ask(c.pod(6).ip, 6379, 'PING')) === 'PONG', 30_000);
    const more = await c.launcherCommand(0, ['cluster', 'add-replica', 'redis-6']);
    assert.equal(more.exitCode, 0, `${more.stdout}\n${more.stderr}`);
    assert.match(more.stdout, /adding redis-6 as a replica of redis-\d \(the master with the fewest replicas\)/);
    await healthy(c, 'the cluster of 7', 60_000, 7);
    const six = (await nodesOf(c, 6))?.find((n) => n.flags.includes('myself'));
    assert.ok(six?.flags.includes('slave'), 'redis-6 is a replica');
    await c.scaleDown(6, { parallel: true });
    await healthy(c, 'the cluster of 6, the extra replica gone', 60_000, 6);
  },
);
