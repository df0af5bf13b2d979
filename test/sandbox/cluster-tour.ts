// `npm run sandbox -- --cluster`: Redis Cluster mode on one machine. 6 pods of `launcher run` with CLUSTER_MODE,
// started at once; they form the cluster on their own. The tour writes 10,000 keys through a cluster-aware client,
// kills a master, shows its replica taking over and the labels following, brings the pod back with a new IP
// (it rejoins under its node ID, as a replica), sends another master SIGTERM (it hands over first), shows
// `launcher status` and counts every key.
import { Cluster } from 'ioredis';
import { parseClusterNodes, slotText, type ClusterNode } from '../../src/cluster/rules/nodes.ts';
import { LocalCluster, type ClusterOptions } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

type Options = Omit<ClusterOptions, 'env'> & {
  env: Record<string, string>;
  pods: number;
  tour: boolean;
  /** The engine's CLI (redis-cli, valkey-cli), for the connect line, and what the engine is called. */
  cli: string;
  engine: string;
  say: (s?: string) => void;
  bold: (s: string) => string;
};

export async function clusterSandbox(o: Options): Promise<number> {
  const { say, bold } = o;
  const masters = Math.max(1, Math.floor(o.pods / 2));
  const c = await new LocalCluster({
    ...o,
    sts: 'redis',
    containers: 'redis',
    env: {
      ...o.env,
      CLUSTER_MODE: 'true',
      CLUSTER_MASTERS: String(masters),
      CLUSTER_REPLICAS_PER_MASTER: String(Math.floor(o.pods / masters) - 1),
      CLUSTER_NODE_TIMEOUT_MS: '3000',
    },
  }).init();
  const nodes = async (i: number): Promise<ClusterNode[]> => {
    const t = await ask(c.pod(i).ip, 6379, 'CLUSTER', 'NODES');
    return typeof t === 'string' ? parseClusterNodes(t) : [];
  };
  const myself = async (i: number) => (await nodes(i)).find((n) => n.flags.includes('myself'));
  const table = async () => {
    const rows = [['POD', 'IP', 'LABEL redis-role', 'NODE', 'ROLE', 'SLOTS']];
    for (const i of c.ordinals) {
      const me = await myself(i);
      const label = c.labels()[c.pod(i).name] ?? '-';
      const role = me ? (me.flags.includes('master') ? 'master' : 'replica') : '(down)';
      rows.push([c.pod(i).name, c.pod(i).ip, label, me?.id.slice(0, 8) ?? '-', role, me ? slotText(me) || '-' : '-']);
    }
    const w = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
    say(rows.map((r, n) => (n ? (x: string) => x : bold)(r.map((x, k) => x.padEnd(w[k])).join('  '))).join('\n'));
  };
  /** Every pod's label equals its role in the cluster. */
  const labelled = async () => {
    for (const i of c.ordinals) {
      const me = await myself(i);
      if (!me || c.labels()[c.pod(i).name] !== (me.flags.includes('master') ? 'master' : 'slave')) return false;
    }
    return true;
  };
  const ok = async () => {
    for (const i of c.ordinals) {
      const info = String((await ask(c.pod(i).ip, 6379, 'CLUSTER', 'INFO')) ?? '');
      if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${o.pods}\\b`).test(info)) return false;
    }
    return true;
  };
  say(
    bold(`redis-ha-launcher sandbox: Redis Cluster, ${o.pods} pods (${masters} masters), stand-in API at ${o.api.url}`),
  );
  say(`running the bundled launcher on ${o.engine}`);
  const t0 = Date.now();
  await Promise.all(Array.from({ length: o.pods }, (_, i) => c.startPod(i)));
  await waitFor('the cluster formed', ok, 90_000, 250);
  const bootMs = Date.now() - t0;
  await waitFor('every pod labelled', labelled, 30_000, 100);
  say(`\n${bold('formed')}: cluster_state:ok on every pod, 16384 slots, after ${bootMs} ms (one pod formed it)`);
  await table();
  say(`\n${bold('connect')}: ${o.cli} -c -h ${c.pod(0).ip} -p 6379 (any pod; -c follows the redirections)`);
  if (!o.tour) return 0;

  say(`\n${bold('tour 1/5')}: a cluster-aware client writes 10,000 keys; every master confirms them (WAIT 1)`);
  const client = new Cluster([{ host: c.pod(0).ip, port: 6379 }]);
  client.on('error', () => {});
  for (let b = 0; b < 20; b++) {
    await Promise.all(Array.from({ length: 500 }, (_, k) => client.set(`tour:${b * 500 + k}`, String(b * 500 + k))));
  }
  for (const i of c.ordinals) {
    if ((await myself(i))?.flags.includes('master')) await ask(c.pod(i).ip, 6379, 'WAIT', 1, 10_000);
  }
  say('  10,000 keys written and confirmed');

  const roles = await Promise.all(c.ordinals.map(async (i) => (await myself(i))?.flags.includes('master')));
  const victim = c.ordinals.find((_, k) => roles[k]) ?? 0;
  const name = c.pod(victim).name;
  const id = (await myself(victim))?.id ?? '';
  const replicaId = (await nodes(victim)).find((n) => n.masterId === id)?.id;
  // Its replica must be in sync: one still (re)syncing is too stale to be elected (cluster-replica-validity-factor).
  const replicaHost = (await nodes(victim)).find((n) => n.id === replicaId)?.host;
  const replicaPod = c.ordinals.find((i) => c.pod(i).ip === replicaHost);
  await waitFor(
    'the replica in sync',
    async () => /master_link_status:up/.test(String(await ask(c.pod(replicaPod ?? 0).ip, 6379, 'INFO', 'replication'))),
    30_000,
    100,
  );
  say(`\n${bold('tour 2/5')}: SIGKILL every process of the master ${name} (${c.pod(victim).ip})`);
  const k0 = Date.now();
  await c.killPod(victim);
  const other = c.ordinals.find((i) => i !== victim) ?? 0;
  const heir = await waitFor(
    'its replica took over',
    async () => {
      const n = (await nodes(other)).find((x) => x.id === replicaId);
      return n?.flags.includes('master') ? n : undefined;
    },
    60_000,
    50,
  );
  const tookMs = Date.now() - k0;
  const heirPod = c.podByIp(heir.host)?.name ?? heir.host;
  await waitFor('labels followed', () => c.labels()[heirPod] === 'master', 30_000, 20);
  const labelMs = Date.now() - k0;
  say(`  kill -> ${heirPod} took over: ${tookMs} ms; kill -> ${heirPod} labelled master: ${labelMs} ms`);

  say(`\n${bold('tour 3/5')}: ${name} comes back (recreated, new IP) and must rejoin under its node ID`);
  const r0 = Date.now();
  o.api.deleteObject('pods', c.ns, name);
  const back = await c.startPod(victim, { newIp: true });
  await waitFor('the cluster whole again', ok, 90_000, 250);
  await waitFor('every pod labelled', labelled, 30_000, 100);
  const again = await myself(victim);
  say(
    `  ${name} back at ${back.ip} after ${Date.now() - r0} ms: node ${again?.id.slice(0, 8)} ` +
      `(${again?.id === id ? 'the same ID' : 'A NEW ID'}), ` +
      `${again?.flags.includes('slave') ? 'a replica' : 'a master'}`,
  );
  await table();

  // A SIGTERM (a rolling update, a node drain) to a master: it hands its slots to its replica before Redis stops.
  const m2 = (await Promise.all(c.ordinals.map(async (i) => ((await myself(i))?.flags.includes('master') ? i : -1))))
    .filter((i) => i >= 0)
    .find((i) => i !== victim);
  const termName = c.pod(m2 ?? 0).name;
  const termId = (await myself(m2 ?? 0))?.id ?? '';
  const heir2 = (await nodes(m2 ?? 0)).find((n) => n.masterId === termId);
  const heir2Pod = c.ordinals.find((i) => c.pod(i).ip === heir2?.host) ?? 0;
  await waitFor(
    'the replica in sync',
    async () => /master_link_status:up/.test(String(await ask(c.pod(heir2Pod).ip, 6379, 'INFO', 'replication'))),
    30_000,
    100,
  );
  say(`\n${bold('tour 4/5')}: SIGTERM to the master ${termName}, as a rolling update sends it`);
  const s0 = Date.now();
  const stopping = c.stopPod(m2 ?? 0);
  await waitFor('the replica took over', async () => (await myself(heir2Pod))?.flags.includes('master'), 30_000, 20);
  const handMs = Date.now() - s0;
  await stopping;
  say(`  SIGTERM -> ${c.pod(heir2Pod).name} took over: ${handMs} ms (CLUSTER FAILOVER, no node timeout to wait for)`);
  o.api.deleteObject('pods', c.ns, termName);
  await c.startPod(m2 ?? 0, { newIp: true });
  await waitFor('the cluster whole again', ok, 90_000, 250);
  await waitFor('every pod labelled', labelled, 30_000, 100);
  // Shown as it is if it does not become healthy (the tour then ends with exit 1).
  const status = await c.statusHealthy(heir2Pod).catch(async () => c.launcherCommand(heir2Pod, ['status']));
  say(`  ${termName} is back as a replica; launcher status:`);
  say(
    status.stdout
      .split('\n')
      .map((l) => (l ? `    ${l}` : ''))
      .join('\n'),
  );

  say(`\n${bold('tour 5/5')}: every key is still there`);
  let found = 0;
  for (let b = 0; b < 20; b++) {
    const vals = await Promise.all(Array.from({ length: 500 }, (_, k) => client.get(`tour:${b * 500 + k}`)));
    found += vals.filter((v, k) => v === String(b * 500 + k)).length;
  }
  client.disconnect();
  say(`  ${found}/10000 keys`);
  say(
    `\n${bold('summary')}: formed in ${bootMs} ms; kill -> takeover ${tookMs} ms; kill -> labelled ${labelMs} ms; ` +
      `SIGTERM -> takeover ${handMs} ms; ` +
      `${found === 10_000 ? 'no key lost' : 'KEYS MISSING'}; same node ID after a new IP: ${again?.id === id}.`,
  );
  return found === 10_000 && again?.id === id && status.exitCode === 0 ? 0 : 1;
}
