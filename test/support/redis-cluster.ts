// Reads of a Redis Cluster of LocalCluster pods (plain connections, no auth): each node's CLUSTER NODES, the
// cluster whole (every pod ok, every slot assigned, every node known), labels equal to the roles, writes confirmed.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { Cluster } from 'ioredis';
import { parseClusterNodes, type ClusterNode } from '../../src/cluster/rules/nodes.ts';
import type { LocalCluster } from './cluster.ts';
import { ask, connect } from './redis.ts';
import { waitFor } from './wait.ts';

export async function nodesOf(c: LocalCluster, i: number): Promise<ClusterNode[] | undefined> {
  const text = await ask(c.pod(i).ip, 6379, 'CLUSTER', 'NODES');
  return typeof text === 'string' ? parseClusterNodes(text) : undefined;
}

/** Every pod answers cluster_state:ok, all 16384 slots assigned; the node ID of each pod. */
export async function healthy(c: LocalCluster, what: string, ms = 60_000, nodes = 6): Promise<Map<string, string>> {
  return waitFor(
    what,
    async () => {
      const ids = new Map<string, string>();
      for (const i of c.ordinals) {
        const info = String((await ask(c.pod(i).ip, 6379, 'CLUSTER', 'INFO')) ?? '');
        if (!/cluster_state:ok/.test(info) || !/cluster_slots_assigned:16384/.test(info)) return undefined;
        if (!new RegExp(`cluster_known_nodes:${nodes}\\b`).test(info)) return undefined;
        const me = (await nodesOf(c, i))?.find((n) => n.flags.includes('myself'));
        if (!me) return undefined;
        ids.set(c.pod(i).name, me.id);
      }
      return ids;
    },
    ms,
    250,
  );
}

/** Labels equal every live pod's role in the cluster (myself's flags). */
export async function labelsTrue(c: LocalCluster, what: string): Promise<Record<string, string | undefined>> {
  return waitFor(
    what,
    async () => {
      const labels = c.labels();
      for (const i of c.ordinals) {
        const me = (await nodesOf(c, i))?.find((n) => n.flags.includes('myself'));
        const want = me?.flags.includes('master') ? 'master' : 'slave';
        if (!me || labels[c.pod(i).name] !== want) return undefined;
      }
      return labels;
    },
    30_000,
    200,
  );
}

/** Each master confirms with WAIT that a replica has everything written so far. */
export async function confirmed(c: LocalCluster): Promise<void> {
  for (const i of c.ordinals) {
    const me = (await nodesOf(c, i))?.find((n) => n.flags.includes('myself'));
    if (!me?.flags.includes('master')) continue;
    const r = connect(c.pod(i).ip, 6379);
    try {
      assert.ok(Number(await r.call('WAIT', '1', '10000')) >= 1, `${c.pod(i).name}: a replica has its writes`);
    } finally {
      r.disconnect();
    }
  }
}

/**
 * A cluster-aware ioredis client through pod 0, closed after the test, with `keys` keys `k:<n>` = n written in
 * batches of 500. Its topology refreshes fail while nodes are down: errors are left to the assertions.
 */
export async function clusterClientWith(t: TestContext, c: LocalCluster, keys: number): Promise<Cluster> {
  const client = new Cluster([{ host: c.pod(0).ip, port: 6379 }], { redisOptions: { connectTimeout: 2000 } });
  client.on('error', () => {});
  t.after(() => client.disconnect());
  for (let b = 0; b < keys / 500; b++) {
    await Promise.all(Array.from({ length: 500 }, (_, k) => client.set(`k:${b * 500 + k}`, String(b * 500 + k))));
  }
  return client;
}
