// `launcher cluster add-shard <pod> [<replica-pod>...] | rebalance | remove-shard <pod>`: explicit scaling of a
// Redis Cluster, never implicit. Slot moves are what redis-cli --cluster does well (MIGRATE in batches, slot
// states, retries), so these commands run it (the password in REDISCLI_AUTH, never in argv) with addresses and
// node IDs taken from the pods and from CLUSTER NODES. Every key is kept: a shard is drained (its slots moved to
// the others) before its nodes are removed.
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { ConfigError, type Config } from '../config/types.ts';
import { nodeState, podAddress } from '../cluster/observe.ts';
import { inCluster } from '../cluster/rules/nodes.ts';
import { removeShardProblem, replicasOf } from '../cluster/rules/scaling.ts';
import { bootstrapLease, recordNodeIds } from '../cluster/lease.ts';
import { tryLock, unlock } from '../kube/lock.ts';
import type { Kube } from '../kube/api.ts';
import { currentPods } from '../kube/pods.ts';
import { addr, isLive, type PodView } from '../model.ts';
import { probeOptions, withRedis } from '../redis/client.ts';

const at = (c: Config, p: PodView) => addr(podAddress(c, p));

/**
 * Runs redis-cli --cluster with the set's password and TLS; its output goes to `out`; throws on failure. redis-cli
 * refuses (before it changes anything) while the nodes do not agree about the configuration, as for a moment
 * after a restart or a failover: that is tried again for up to 30 s.
 */
async function redisCli(c: Config, args: string[], out: (s: string) => void): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await redisCliOnce(c, args);
    const disagree = /Nodes don't agree about configuration/.test(r.text);
    if (r.code === 0 || !disagree || Date.now() > deadline) {
      for (const line of r.text.split('\n')) if (line.trim()) out(`  ${line}`);
      if (r.code !== 0) throw new Error(`redis-cli --cluster ${args[0]} failed (exit ${r.code})`);
      return;
    }
    await new Promise((done) => setTimeout(done, 500));
  }
}

async function redisCliOnce(c: Config, args: string[]): Promise<{ code: number; text: string }> {
  const tls = c.tls ? ['--tls', '--cert', c.tls.cert, '--key', c.tls.key, '--cacert', c.tls.ca] : [];
  const r = await execa(c.cliBin, [...tls, '--cluster', ...args], {
    env: c.password ? { REDISCLI_AUTH: c.password } : {},
    // Closed: a question redis-cli asks (fix: "type 'yes' to accept") is answered no, never waited on.
    stdin: 'ignore',
    reject: false,
    all: true,
  });
  // redis-cli colours its --cluster output even when it is not a terminal.
  return { code: r.exitCode ?? 1, text: stripVTControlCharacters(String(r.all ?? '')) };
}

/**
 * A slot move that stopped half-way (a node failed meanwhile: CLUSTERDOWN) leaves slots open (migrating or
 * importing); `redis-cli --cluster fix` closes them, keys included, and the move is tried once more.
 */
async function moveSlots(c: Config, entry: string, args: string[], out: (s: string) => void): Promise<void> {
  try {
    await redisCli(c, args, out);
  } catch (e) {
    out(`  ${(e as Error).message}: closing open slots (redis-cli --cluster fix), then once more`);
    await waitForOk(c, entry);
    // `fix` also "covers" slots no node serves by giving them, empty, to some master: when a failed master still
    // owns them, its data would be dropped on its return. It only runs while every slot is served by a node that is
    // not failing (cluster_slots_ok: cluster_slots_assigned counts a failed master's slots too).
    const st = await nodeState(c, hostPort(entry));
    if (st?.info.cluster_state !== 'ok' || st.info.cluster_slots_ok !== '16384') {
      throw new Error(
        `the cluster is not whole (cluster_state:${st?.info.cluster_state ?? 'no answer'}, ` +
          `${st?.info.cluster_slots_ok ?? '?'} slots served by a node that is not failing): not closing slots ` +
          'with redis-cli --cluster fix, which could re-create missing ones empty; see launcher status',
        { cause: e },
      );
    }
    await redisCli(c, ['fix', entry], out);
    await redisCli(c, args, out);
  }
}

const hostPort = (entry: string) => ({
  host: entry.slice(0, entry.lastIndexOf(':')),
  port: Number(entry.slice(entry.lastIndexOf(':') + 1)),
});

/** Waits (up to 60 s) until the entry node says cluster_state:ok. */
async function waitForOk(c: Config, entry: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await nodeState(c, hostPort(entry)))?.info.cluster_state !== 'ok' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * One `launcher cluster` command at a time per cluster: the Lease `<set>-cluster-admin`, renewed every 10 s while
 * the command runs (a command that dies frees it once it has been seen unchanged for 60 s).
 */
export async function clusterCommand(
  c: Config,
  kube: Kube,
  what: string,
  pods: string[],
  out: (s: string) => void,
): Promise<number> {
  const lock = `${bootstrapLease(c)}-admin`;
  const holder = `${c.podName}:${process.pid}`;
  if ((await tryLock(kube, lock, holder, 60)) === undefined) {
    throw new Error(`another launcher cluster command holds the Lease ${lock}; nothing was changed`);
  }
  const renewing = setInterval(() => void tryLock(kube, lock, holder, 60).catch(() => undefined), 10_000);
  try {
    return await run(c, kube, what, pods, out);
  } finally {
    clearInterval(renewing);
    await unlock(kube, lock, holder).catch(() => undefined);
  }
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
  if (what === 'add-shard') {
    const [master, ...replicas] = pods.map(byName);
    if (!master) throw new ConfigError('add-shard needs the new master pod, then optionally its replicas');
    for (const p of [master, ...replicas]) {
      const s = states.find(([x]) => x.name === p.name)?.[1];
      if (!s) throw new Error(`${p.name} does not answer; nothing was changed`);
      if (inCluster(s)) throw new ConfigError(`${p.name} is in a cluster already; add-shard takes fresh pods`);
      if (s.keys > 0) throw new ConfigError(`${p.name} holds ${s.keys} keys; a pod holding data is never flushed`);
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
    const { live: replicas, ghosts } = replicasOf(me.id, s?.nodes ?? []);
    const shard = [target, ...replicas.map((r) => all.find((p) => podAddress(c, p).host === r.host))];
    const problem = removeShardProblem(
      shard.map((p) => p?.name ?? '?'),
      all.filter((p) => p.owner === target.owner),
    );
    if (problem) throw new ConfigError(`remove-shard ${target.name} refused: ${problem}`);
    const via = states.find(([x, st]) => x.name !== target.name && st && inCluster(st))?.[0] ?? member;
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
    const left = shard.filter((p) => p !== undefined).map((p) => [p.name, null] as const);
    await recordNodeIds(c, kube, Object.fromEntries(left)).catch((e: Error) =>
      out(`  the Lease still records their node IDs (${e.message}); harmless: the cluster forgot them`),
    );
    return 0;
  }
  throw new ConfigError(
    `cluster command ${JSON.stringify(what)} is unknown: expected add-shard, rebalance or remove-shard`,
  );
}

/** Waits (up to 20 s) until `via` knows the node `id`. */
async function knownBy(c: Config, via: PodView, id: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await nodeState(c, podAddress(c, via));
    if (s?.nodes.some((n) => n.id === id && !n.flags.includes('handshake'))) return;
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
