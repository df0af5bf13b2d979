// `launcher cluster add-shard <pod> [<replica-pod>...] | add-replica <pod>... | rebalance | remove-shard <pod>`:
// explicit scaling of a Redis Cluster, never implicit. Slot moves are what redis-cli --cluster does well (MIGRATE
// in batches, slot states, retries), so these commands run it (cluster/redis-cli.ts) with addresses and node IDs
// taken from the pods and from CLUSTER NODES. Every key is kept: a shard is drained (its slots moved to the others)
// before its nodes are removed. Fewer replicas per shard need no command: a replica on the highest ordinals leaves
// the cluster by itself when a scale-down removes its pod (cluster/scale-in.ts).
import { ConfigError, type Config } from '../config/types.ts';
import { nodeState, podAddress } from '../cluster/observe.ts';
import { inCluster } from '../cluster/rules/nodes.ts';
import { removeShardProblem, replicaTarget, replicasOf } from '../cluster/rules/scaling.ts';
import { withAdminLock } from '../cluster/admin-lock.ts';
import { recordNodeIds } from '../cluster/lease.ts';
import { moveSlots, redisCli, waitForOk } from '../cluster/redis-cli.ts';
import type { Kube } from '../kube/api.ts';
import { currentPods } from '../kube/pods.ts';
import { addr, isLive, type PodView } from '../model.ts';
import { probeOptions, withRedis } from '../redis/client.ts';
import { followGuard } from '../redis/follow-guard.ts';

const at = (c: Config, p: PodView) => addr(podAddress(c, p));

/** One `launcher cluster` command at a time per cluster (cluster/admin-lock.ts). */
export async function clusterCommand(
  c: Config,
  kube: Kube,
  what: string,
  pods: string[],
  out: (s: string) => void,
): Promise<number> {
  const r = await withAdminLock(c, kube, 0, () => run(c, kube, what, pods, out));
  if (!r.locked) throw new Error(`another launcher cluster command holds the Lease ${r.lock}; nothing was changed`);
  return r.value;
}

async function run(c: Config, kube: Kube, what: string, pods: string[], out: (s: string) => void): Promise<number> {
  const all = (await currentPods(kube, c.podSelector)).filter(isLive);
  const byName = (name: string) => {
    const p = all.find((x) => x.name === name);
    if (!p) throw new ConfigError(`pod ${JSON.stringify(name)} is not a live pod of ${c.podSelector}`);
    return p;
  };
  const states = await Promise.all(all.map(async (p) => [p, await nodeState(c, podAddress(c, p))] as const));
  const member = states.find(([, s]) => s && inCluster(s) && s.info.cluster_state === 'ok')?.[0];
  if (!member) throw new Error('no member of the cluster answers with cluster_state:ok; nothing was changed');
  const entry = at(c, member);
  if (what === 'rebalance') {
    out(`rebalancing the slots over every master (through ${member.name})`);
    await moveSlots(c, entry, ['rebalance', entry, '--cluster-use-empty-masters'], out);
    return 0;
  }
  /** Only fresh, empty pods are added: a pod holding data is never flushed. */
  const freshOnly = (ps: PodView[]) => {
    for (const p of ps) {
      const s = states.find(([x]) => x.name === p.name)?.[1];
      if (!s) throw new Error(`${p.name} does not answer; nothing was changed`);
      if (inCluster(s)) throw new ConfigError(`${p.name} is in a cluster already; ${what} takes fresh pods`);
      if (s.keys > 0) throw new ConfigError(`${p.name} holds ${s.keys} keys; a pod holding data is never flushed`);
    }
  };
  if (what === 'add-replica') {
    const news = pods.map(byName);
    if (!news.length) throw new ConfigError('add-replica needs one or more fresh pods');
    freshOnly(news);
    for (const r of news) {
      // Counted again for each: the replicas added before it count.
      const nodes = (await nodeState(c, podAddress(c, member)))?.nodes ?? [];
      const podOf = (n: { host: string }) => all.find((p) => podAddress(c, p).host === n.host);
      const m = replicaTarget(nodes, podOf, r);
      if (!m) throw new Error('no master serving slots answers; nothing more was changed');
      const refused = await followGuard(c, { host: m.host, port: m.port }, podAddress(c, r));
      if (refused) throw new ConfigError(`${r.name} cannot follow ${podOf(m)?.name ?? m.id}: ${refused}`);
      out(`adding ${r.name} as a replica of ${podOf(m)?.name ?? m.id} (the master with the fewest replicas)`);
      await redisCli(c, ['add-node', at(c, r), entry], out);
      await knownBy(c, r, m.id);
      await withRedis(podAddress(c, r), probeOptions(c), (x) => x.call('CLUSTER', 'REPLICATE', m.id));
      const id = await waitForId(c, r);
      await knownBy(c, member, id, m.id);
    }
    return 0;
  }
  if (what === 'add-shard') {
    const [master, ...replicas] = pods.map(byName);
    if (!master) throw new ConfigError('add-shard needs the new master pod, then optionally its replicas');
    freshOnly([master, ...replicas]);
    for (const r of replicas) {
      const refused = await followGuard(c, podAddress(c, master), podAddress(c, r));
      if (refused) throw new ConfigError(`${r.name} cannot follow ${master.name}: ${refused}; nothing was changed`);
    }
    out(`adding ${master.name} as a master`);
    await redisCli(c, ['add-node', at(c, master), entry], out);
    const id = await waitForId(c, master);
    // A replica is added by its master's ID, which the entry node learns by gossip a moment after the MEET.
    await knownBy(c, member, id);
    for (const r of replicas) {
      // Joined first, then told whom to follow once it knows that master (redis-cli's --cluster-slave sends the
      // REPLICATE before gossip has told the newcomer the master's ID: "Unknown node").
      out(`adding ${r.name} as a replica of ${master.name}`);
      await redisCli(c, ['add-node', at(c, r), entry], out);
      await knownBy(c, r, id);
      await withRedis(podAddress(c, r), probeOptions(c), (x) => x.call('CLUSTER', 'REPLICATE', id));
    }
    // A node just added has no slot map yet and answers CLUSTERDOWN to the keys moved to it until it has; and
    // every member must know it before slots are given to it ("I don't know about node").
    for (const p of [master, ...replicas]) await waitForOk(c, at(c, p));
    for (const [p, st] of states) if (st && inCluster(st)) await knownBy(c, p, id);
    out('moving slots to the new master');
    await moveSlots(c, entry, ['rebalance', entry, '--cluster-use-empty-masters'], out);
    return 0;
  }
  if (what === 'remove-shard') {
    const target = byName(pods[0] ?? '');
    const s = states.find(([x]) => x.name === target.name)?.[1];
    const me = s?.nodes.find((n) => n.flags.includes('myself'));
    if (!me || !me.flags.includes('master')) throw new ConfigError(`${target.name} is not a master of the cluster`);
    const podAt = (host: string) => all.some((p) => podAddress(c, p).host === host);
    const { live: replicas, ghosts } = replicasOf(me.id, s?.nodes ?? [], podAt);
    const shard = [target, ...replicas.map((r) => all.find((p) => podAddress(c, p).host === r.host))];
    // Pods outside the cluster and empty (a replica that left by a scale-down, back) may go with the shard.
    const outside = states.filter(([, st]) => st && !inCluster(st) && st.keys === 0).map(([p]) => p.name);
    // A ghost replica's pod (its node dead, its Pod object left) goes with the shard too.
    const ghostPods = ghosts.map((g) => all.find((p) => p.clusterNodeId === g.id));
    const problem = removeShardProblem(
      [...shard, ...ghostPods.filter((p) => p !== undefined)].map((p) => p?.name ?? '?'),
      all.filter((p) => p.owner === target.owner),
      outside,
    );
    if (problem) throw new ConfigError(`remove-shard ${target.name} refused: ${problem}`);
    const via = states.find(([x, st]) => x.name !== target.name && st && inCluster(st))?.[0] ?? member;
    // As for add-shard: a node back a moment ago may still see the cluster down (CLUSTERDOWN in the middle of a
    // slot move, which then stays open) while the others see it whole.
    for (const p of [target, via]) await waitForOk(c, at(c, p));
    out(`draining ${target.name}: its slots to the other masters`);
    await moveSlots(c, at(c, via), ['rebalance', at(c, via), '--cluster-weight', `${me.id}=0`], out);
    for (const r of replicas) {
      out(`removing its replica ${r.host}:${r.port}`);
      await redisCli(c, ['del-node', at(c, via), r.id], out);
    }
    // A failed replica no pod runs cannot be reset by del-node: every member forgets it.
    for (const g of ghosts) {
      out(`forgetting its failed replica ${g.host}:${g.port} (${g.id.slice(0, 8)}) on every member`);
      for (const [p, st] of states) {
        if (p.name === target.name || !st || !inCluster(st)) continue;
        await withRedis(podAddress(c, p), probeOptions(c), (x) => x.call('CLUSTER', 'FORGET', g.id)).catch((e: Error) =>
          out(`  ${p.name}: ${e.message}`),
        );
      }
    }
    out(`removing ${target.name}`);
    await redisCli(c, ['del-node', at(c, via), me.id], out);
    // Their node IDs leave the record: back (a scale-up), these pods join only when asked.
    const left = [...shard, ...ghostPods].filter((p) => p !== undefined).map((p) => [p.name, null] as const);
    await recordNodeIds(c, kube, Object.fromEntries(left)).catch((e: Error) =>
      out(`  the Lease still records their node IDs (${e.message}); harmless: the cluster forgot them`),
    );
    return 0;
  }
  throw new ConfigError(
    `cluster command ${JSON.stringify(what)} is unknown: expected add-shard, add-replica, rebalance or remove-shard`,
  );
}

/** Waits (up to 20 s) until `via` knows the node `id` (as a replica of `masterId`, if given). */
async function knownBy(c: Config, via: PodView, id: string, masterId?: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await nodeState(c, podAddress(c, via));
    const n = s?.nodes.find((x) => x.id === id && !x.flags.includes('handshake'));
    if (n && (!masterId || n.masterId === masterId)) return;
    if (Date.now() > deadline) throw new Error(`${via.name} does not know the new node ${id} after 20 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The node ID of a pod just added (CLUSTER MYID). */
async function waitForId(c: Config, p: PodView): Promise<string> {
  const s = await nodeState(c, podAddress(c, p));
  const me = s?.nodes.find((n) => n.flags.includes('myself'));
  if (!me) throw new Error(`${p.name} does not answer CLUSTER NODES`);
  return me.id;
}
