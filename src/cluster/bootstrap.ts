// Forming the cluster, by the bootstrap Lease's holder only: config epochs, MEET, ADDSLOTSRANGE on the masters,
// REPLICATE on the replicas, then cluster_state:ok on every node. Each step may be repeated: a holder that died
// half-way runs it again when it comes back, skipping what each node says is done. True once formed and recorded;
// false when another pod holds the Lease.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { emitEvent } from '../kube/events.ts';
import type { Address } from '../model.ts';
import { probeOptions, withRedis } from '../redis/client.ts';
import { log } from '../runtime/log.ts';
import { bootstrapLease, claimBootstrap, recordFormed, renewBootstrap } from './lease.ts';
import { nodeState } from './observe.ts';
import { settled, slotCount, type ClusterNode } from './rules/nodes.ts';
import { BOOTSTRAP_LEASE_MS, type BootstrapPlan, type ClusterView } from './rules/decide.ts';

/**
 * Forms the cluster (only the Lease's holder): config epochs, MEET, ADDSLOTSRANGE on the masters, REPLICATE on
 * the replicas, then waits for cluster_state:ok. Each step may be repeated (a holder that died half-way runs it
 * again when it comes back).
 */
export async function formCluster(
  c: Config,
  kube: Kube,
  plan: BootstrapPlan,
  v: ClusterView,
  say: (sentence: string) => void,
  takeOver = false,
): Promise<boolean> {
  const lease = bootstrapLease(c);
  // Taken over only at the version the decision saw (unchanged for its duration, or its holder's pod gone): if the
  // holder renewed it meanwhile, or another pod took it, the write fails and this pod decides again.
  const stale =
    takeOver && v.bootstrapHolder && v.bootstrapLeaseVersion
      ? { resourceVersion: v.bootstrapLeaseVersion, plan: v.bootstrapPlan }
      : undefined;
  if (takeOver && !stale) return false;
  if (!(await claimBootstrap(c, kube, plan, stale))) {
    say(`waiting: another pod holds the Lease ${lease} and forms the cluster`);
    return false;
  }
  if (stale) {
    const what = `took the bootstrap Lease over from ${v.bootstrapHolder}; resuming its bootstrap`;
    log.warn(what);
    void emitEvent(kube, { name: c.podName }, 'Warning', 'BootstrapTakenOver', what);
  }
  // Renewed while this pod forms the cluster: nobody takes a Lease over whose holder renews it. Taken over anyway
  // (this pod's renewals failed for the Lease's time), it stops before its next step.
  let lost = false;
  const renewing = setInterval(() => {
    renewBootstrap(c, kube)
      .then((held) => (lost ||= !held))
      .catch((e: unknown) => log.warn(`cannot renew the bootstrap Lease: ${String(e)}`));
  }, BOOTSTRAP_LEASE_MS / 6);
  const stillHolder = () => {
    if (lost) throw new Error(`another pod took the Lease ${lease} over; this pod stops forming the cluster`);
  };
  try {
    return await formClaimed(c, kube, plan, v, stillHolder);
  } finally {
    clearInterval(renewing);
  }
}

async function formClaimed(
  c: Config,
  kube: Kube,
  plan: BootstrapPlan,
  v: ClusterView,
  stillHolder: () => void,
): Promise<boolean> {
  const o = probeOptions(c);
  const at = (name: string): Address => ({
    host: v.pods.find((x) => x.name === name)?.ip ?? '',
    port: c.redisPort,
  });
  const order = [...plan.masters.map((m) => m.pod), ...plan.replicas.map((r) => r.pod)];
  log.info(
    `forming the cluster: masters ${plan.masters.map((m) => `${m.pod} (slots ${m.from}-${m.to})`).join(', ')}; ` +
      `replicas ${plan.replicas.map((r) => `${r.pod} of ${r.of}`).join(', ')}`,
  );
  // Distinct config epochs first (what redis-cli --cluster create does), so that no collision has to settle.
  await Promise.all(
    order.map((pod, i) =>
      withRedis(at(pod), o, (r) => r.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1))).catch(() => undefined),
    ),
  );
  const self = at(c.podName);
  for (const pod of order.filter((p) => p !== c.podName)) {
    stillHolder();
    const a = at(pod);
    await withRedis(self, o, (r) => r.call('CLUSTER', 'MEET', a.host, String(a.port)));
  }
  const until = async (what: string, ok: () => Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      stillHolder();
      if (await ok().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`forming the cluster: ${what} did not happen within ${ms} ms`);
      await sleep(200);
    }
  };
  const everyoneKnowsAll = async () => {
    const states = await Promise.all(order.map((p) => nodeState(c, at(p))));
    return states.every((s) => s && s.nodes.filter((n) => !n.flags.includes('handshake')).length >= order.length);
  };
  await until('every node knowing every other', everyoneKnowsAll, 30_000);
  // Run again after a bootstrap that stopped half-way, each step is skipped where it is done, as each node
  // says of itself: a range some node serves already (its master, or the replica that took over from it) is
  // left alone, never taken over.
  const myself = async (pod: string) => (await nodeState(c, at(pod)))?.nodes.find((n) => n.flags.includes('myself'));
  const selves = async () => Promise.all(order.map((p) => myself(p)));
  const ownerOf = (nodes: (ClusterNode | undefined)[], slot: number) =>
    nodes.find((n) => n?.slots.some(([a, b]) => a <= slot && slot <= b));
  // Taken: any node any of them knows serves part of the range (a node outside this plan included).
  const views = await Promise.all(order.map((p) => nodeState(c, at(p))));
  const served = views.flatMap((s) => s?.nodes ?? []);
  for (const m of plan.masters) {
    const taken = served.some((n) => n.slots.some(([a, b]) => a <= m.to && m.from <= b));
    if (taken) continue;
    stillHolder();
    await withRedis(at(m.pod), o, (r) => r.call('CLUSTER', 'ADDSLOTSRANGE', String(m.from), String(m.to)));
  }
  const now = await selves();
  // Each planned replica follows whoever serves its master's range now; so does a planned master whose range
  // another node took over while it was away (its replica, promoted): it is left empty otherwise.
  const followers = [
    ...plan.replicas.map((r) => ({ pod: r.pod, from: plan.masters.find((m) => m.pod === r.of)?.from ?? 0 })),
    ...plan.masters.map((m) => ({ pod: m.pod, from: m.from })),
  ];
  for (const f of followers) {
    const owner = ownerOf(now, f.from);
    if (!owner) throw new Error(`forming the cluster: no node serves slot ${f.from}`);
    await until(
      `${f.pod} replicating ${owner.host}:${owner.port}`,
      async () => {
        // Asked again at each try: a replica already (of its master, or of whoever took over), or a master
        // serving slots, is done, and a live replica is never re-pointed (REPLICATE would move it).
        const me = await myself(f.pod);
        if (!me) return false;
        if (me.flags.includes('slave') || slotCount(me) > 0) return true;
        await withRedis(at(f.pod), o, (x) => x.call('CLUSTER', 'REPLICATE', owner.id));
        return true;
      },
      30_000,
    );
  }
  // Formed once every node says so, not only this one.
  await until(
    'cluster_state:ok on every node',
    async () => (await Promise.all(order.map((p) => nodeState(c, at(p))))).every((x) => x && settled(x)),
    60_000,
  );
  stillHolder();
  await recordFormed(c, kube);
  const what =
    `formed the cluster: ${plan.masters.length} masters, ${plan.replicas.length} replicas, ` + `16384 slots assigned`;
  log.info(what);
  void emitEvent(kube, { name: c.podName }, 'Normal', 'ClusterFormed', what);
  return true;
}
