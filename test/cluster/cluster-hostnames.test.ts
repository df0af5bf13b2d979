// Redis Cluster mode with hostname endpoints (REDIS_HOSTNAMES): each pod in its own network namespace, named by a
// hosts file as the cluster DNS names StatefulSet pods. The nodes announce their names (cluster-announce-hostname)
// and, asked to (CLUSTER_PREFERRED_ENDPOINT=hostname), hand them out (cluster-preferred-endpoint-type hostname):
// CLUSTER SLOTS and every MOVED name pods, not IPs.
// A cluster-aware client in another pod's namespace, knowing nothing but one name, writes and reads through the
// redirections; a master killed and recreated with a new IP rejoins under its node ID and its name, and the
// client, knowing names only, reads every key again.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { parseClusterNodes } from '../../src/cluster/rules/nodes.ts';
import { REPO, testCluster, type LocalCluster } from '../support/cluster.ts';
import { Network } from '../support/netns.ts';
import { ask, connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const skip = Network.unavailable();
const PODS = [0, 1, 2, 3, 4, 5];
const NAME = /^redis-\d\.redis-headless\.redis\.svc\.cluster\.local$/;
const KEYS = 1000;

/** A cluster-aware ioredis client as a program run in another pod: `write` then counts what it reads back. */
const CLIENT = `
import { createRequire } from 'node:module';
const { Cluster } = createRequire(${JSON.stringify(join(REPO, 'package.json'))})('ioredis');
const [seed, mode, n] = process.argv.slice(2);
const c = new Cluster([{ host: seed, port: 6379 }], { redisOptions: { connectTimeout: 2000 } });
c.on('error', () => {});
const hosts = new Set();
if (mode === 'write') {
  for (let i = 0; i < Number(n); i++) await c.set('k:' + i, String(i));
}
let found = 0;
for (let i = 0; i < Number(n); i++) if ((await c.get('k:' + i)) === String(i)) found++;
for (const node of c.nodes('master')) hosts.add(node.options.host);
console.log(JSON.stringify({ found, hosts: [...hosts] }));
c.disconnect();
`;

async function whole(c: LocalCluster, what: string): Promise<Map<string, string>> {
  return waitFor(
    what,
    async () => {
      const ids = new Map<string, string>();
      for (const i of c.ordinals) {
        const info = String((await ask(c.pod(i).ip, 6379, 'CLUSTER', 'INFO')) ?? '');
        if (!/cluster_state:ok/.test(info) || !/cluster_known_nodes:6\b/.test(info)) return undefined;
        const nodes = parseClusterNodes(String(await ask(c.pod(i).ip, 6379, 'CLUSTER', 'NODES')));
        if (nodes.some((n) => n.flags.includes('fail') || n.flags.includes('fail?'))) return undefined;
        ids.set(c.pod(i).name, nodes.find((n) => n.flags.includes('myself'))!.id);
      }
      return ids;
    },
    90_000,
    250,
  );
}

/** Every endpoint CLUSTER SLOTS hands out, by host. */
async function slotHosts(c: LocalCluster, i: number): Promise<string[]> {
  const slots = (await ask(c.pod(i).ip, 6379, 'CLUSTER', 'SLOTS')) as [number, number, ...unknown[][]][];
  return slots.flatMap(([, , ...nodes]) => nodes.map((n) => String(n[0])));
}

test(
  'cluster mode with hostname endpoints: names in CLUSTER SLOTS and MOVED; a new IP keeps the name',
  { skip },
  async (t) => {
    const network = Network.create(t);
    const { api, root, c } = await testCluster(t, 'cluster-hostnames', {
      network,
      dnsLagMs: 1000,
      containers: 'redis',
      env: {
        CLUSTER_MODE: 'true',
        CLUSTER_NODE_TIMEOUT_MS: '3000',
        REDIS_HOSTNAMES: 'true',
        REDIS_HEADLESS_SERVICE: 'redis-headless',
        CLUSTER_PREFERRED_ENDPOINT: 'hostname',
      },
    });
    await c.startAll(PODS);
    const ids = await whole(c, 'the cluster formed');
    const hosts = await waitFor(
      'three ranges in CLUSTER SLOTS, a master and a replica each',
      async () => {
        const h = await slotHosts(c, 0);
        return h.length === 6 ? h : undefined;
      },
      30_000,
      100,
    );
    assert.ok(
      hosts.every((h) => NAME.test(h)),
      `CLUSTER SLOTS names pods: ${hosts.join(', ')}`,
    );
    // A key on another master: the plain client is redirected to a name.
    const plain = connect(c.pod(0).ip, 6379);
    t.after(() => plain.disconnect());
    let moved = '';
    for (let k = 0; !moved && k < 100; k++) {
      const e = await plain.get(`probe:${k}`).then(
        () => undefined,
        (x: Error) => x,
      );
      moved = /^MOVED \d+ (.+):6379$/.exec(e?.message ?? '')?.[1] ?? '';
    }
    assert.match(moved, NAME, 'MOVED names the pod');

    // A client in redis-5's namespace knows one name; it writes and reads through the redirections.
    const script = join(root, 'client.mjs');
    await writeFile(script, CLIENT);
    const client = async (i: number, mode: 'write' | 'read') => {
      const r = await execa(
        network.exec(c.pod(i).host!)[0],
        [...network.exec(c.pod(i).host!).slice(1), process.execPath, script, c.pod(0).host!.fqdn!, mode, String(KEYS)],
        { timeout: 60_000, reject: false },
      );
      assert.equal(r.exitCode, 0, String(r.stderr));
      return JSON.parse(String(r.stdout)) as { found: number; hosts: string[] };
    };
    const wrote = await client(5, 'write');
    assert.equal(wrote.found, KEYS, 'every key written and read back');
    assert.ok(wrote.hosts.every((h) => NAME.test(h)) && wrote.hosts.length === 3, `by name: ${wrote.hosts}`);

    // A master is killed and recreated with a new IP: it rejoins under its node ID, and is still known by name.
    const nodes = parseClusterNodes(String(await ask(c.pod(1).ip, 6379, 'CLUSTER', 'NODES')));
    const victim = PODS.find((i) => nodes.find((n) => n.id === ids.get(c.pod(i).name))?.flags.includes('master'))!;
    const oldIp = c.pod(victim).ip;
    await c.killPod(victim);
    api.deleteObject('pods', c.ns, c.pod(victim).name);
    await c.startPod(victim, { newIp: true });
    assert.notEqual(c.pod(victim).ip, oldIp);
    const back = await whole(c, `${c.pod(victim).name} rejoined`);
    assert.deepEqual(Object.fromEntries(back), Object.fromEntries(ids), 'every node ID kept');
    const after = await waitFor(
      `${c.pod(victim).name} in CLUSTER SLOTS again`,
      async () => {
        const h = await slotHosts(c, 2);
        return h.length === 6 && h.includes(c.pod(victim).host!.fqdn!) ? h : undefined;
      },
      30_000,
      100,
    );
    assert.ok(
      after.every((h) => NAME.test(h)) && after.includes(c.pod(victim).host!.fqdn!),
      `still by name: ${after.join(', ')}`,
    );
    const read = await client(4, 'read');
    assert.equal(read.found, KEYS, 'every key read back by a client that knows names only');
  },
);
