// Redis Cluster mode, a pod's volume lost (its node died with its local disk; the PVC re-created empty): the pod
// comes back fresh, with a new node ID and no nodes.conf. The launcher recorded which node ID each pod ran (on the
// bootstrap Lease, which outlives the pods): the fresh pod rejoins by itself as a replica (of the master its old
// node followed, or of the master with the fewest replicas), once the cluster has failed its old node and that
// node serves no slot; every member then forgets the old node. First a replica, then a master (its replica takes
// over first) while a client writes, each write counted once WAIT confirms it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster, type LocalCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { confirmed, healthy, labelsTrue, nodesOf, clusterClientWith } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';
import { ClusterWriter } from '../support/writer.ts';

const PODS = [0, 1, 2, 3, 4, 5];
const KEYS = 3000;

const self = async (c: LocalCluster, i: number) => (await nodesOf(c, i))?.find((n) => n.flags.includes('myself'));

/** The pod back with an empty volume is a replica of `masterId`, in sync, and nobody knows `oldId` any more. */
async function rejoined(c: LocalCluster, i: number, oldId: string, masterId: string, what: string): Promise<number> {
  const t0 = Date.now();
  await waitFor(
    what,
    async () => {
      const me = await self(c, i);
      if (!me?.flags.includes('slave') || me.masterId !== masterId || me.id === oldId) return false;
      const info = String(await ask(c.pod(i).ip, 6379, 'INFO', 'replication'));
      if (!/master_link_status:up/.test(info)) return false;
      for (const j of c.ordinals) if ((await nodesOf(c, j))?.some((n) => n.id === oldId)) return false;
      return true;
    },
    60_000,
    100,
  );
  return Date.now() - t0;
}

test(
  'cluster mode: a replica, then a master, lose their volumes; each rejoins by itself as a replica, its old node ' +
    'forgotten everywhere, every confirmed write kept',
  async (t) => {
    const { c } = await testCluster(t, 'cluster-lostvol', {
      containers: 'redis',
      env: { CLUSTER_MODE: 'true', CLUSTER_NODE_TIMEOUT_MS: '2000', CLUSTER_MASTERS: '3' },
    });
    await c.startAll(PODS);
    const ids = await healthy(c, 'the cluster formed');
    const podOf = new Map([...ids].map(([pod, id]) => [id, Number(pod.split('-').pop())]));
    const client = await clusterClientWith(t, c, KEYS);
    await confirmed(c);
    const writer = new ClusterWriter(client);
    t.after(() => writer.stop());

    // A replica's volume lost: back empty, with a new IP; it follows its old master again.
    const nodes = (await nodesOf(c, 0))!;
    const replica = nodes.find((n) => n.masterId)!;
    const r = podOf.get(replica.id)!;
    await c.recreatePod(r, 'kill', { lostVolume: true });
    const tr = await rejoined(c, r, replica.id, replica.masterId!, `${c.pod(r).name} back as a replica`);
    t.diagnostic(`a replica's volume lost: ${c.pod(r).name} served as a replica again ${tr} ms after its start`);
    await c.waitReady(r, 30_000);

    // A master's volume lost (its node died): its replica takes over; the master comes back empty and follows it.
    const master = nodes.find((n) => n.flags.includes('master') && n.id !== replica.masterId)!;
    const heir = nodes.find((n) => n.masterId === master.id)!;
    const m = podOf.get(master.id)!;
    await waitFor(
      `${c.pod(podOf.get(heir.id)!).name} in sync`,
      async () => /master_link_status:up/.test(String(await ask(c.pod(podOf.get(heir.id)!).ip, 6379, 'INFO'))),
      30_000,
      100,
    );
    await c.recreatePod(m, 'kill', { lostVolume: true });
    const tm = await rejoined(c, m, master.id, heir.id, `${c.pod(m).name} back as a replica of its old replica`);
    t.diagnostic(`a master's volume lost: ${c.pod(m).name} served as a replica again ${tm} ms after its start`);
    await healthy(c, 'the cluster whole, six nodes known everywhere');
    await labelsTrue(c, 'labels true');
    await c.waitReady(m, 30_000);
    const st = await c.statusHealthy(0);
    assert.equal(st.exitCode, 0, st.stdout + st.stderr);

    await writer.stop();
    const values = await Promise.all(writer.confirmed.map((k) => client.get(k)));
    t.diagnostic(`writes meanwhile: ${writer.confirmed.length} confirmed, ${writer.failures} not`);
    assert.deepEqual(
      writer.confirmed.filter((k, i) => values[i] !== k.slice(5)),
      [],
      'every confirmed write kept',
    );
    assert.equal(await client.get(`k:${KEYS - 1}`), String(KEYS - 1));
  },
);
