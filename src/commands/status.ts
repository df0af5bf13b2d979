// `launcher status [-o json]`: the set at a glance, from any pod of it or from wherever the pod IPs are reachable.
// Read-only: API GETs and LISTs, and ROLE / SENTINEL MASTER / INFO questions; no write anywhere.
// Exit 0 healthy, 1 degraded, 2 cannot tell (the API or every Redis unreachable).
import type { Config } from '../config/types.ts';
import { apiFailure, type Kube } from '../kube/api.ts';
import { hasIp, isLive, type Address, type PodView } from '../model.ts';
import { clusterStatus, renderClusterStatus } from '../cluster/rules/status.ts';
import { bootstrapLease, readClusterLease, type ClusterLease } from '../cluster/lease.ts';
import { statefulSetOrdinals } from '../kube/statefulsets.ts';
import { nodeState, podAddress } from '../cluster/observe.ts';
import { podRoles } from '../sentinel/observe.ts';
import { listPods } from '../kube/pods.ts';
import { readRecord } from '../kube/record.ts';
import { ask, askSentinel, forSentinel, probeOptions, type ProbeOptions } from '../redis/client.ts';
import { engineOf, engineText } from '../redis/engine.ts';
import { parseInfo } from '../redis/replies.ts';
import { renderStatus, setStatus, type SentinelStatus } from '../sentinel/rules/status.ts';

/** A replica further behind than this is reported (1 MiB: more than a moment of writes). */
export const LAG_REPORT_BYTES = 1 << 20;

export async function status(c: Config, kube: Kube, json: boolean, out: (s: string) => void): Promise<number> {
  if (c.cluster) return clusterStatusOf(c, c.cluster, kube, json, out);
  let pods, sentinelPods, record: string | undefined, paused: string | undefined;
  try {
    [pods, sentinelPods, record] = await Promise.all([
      listPods(kube, c.podSelector),
      c.sentinelSidecar ? undefined : listPods(kube, c.sentinelSelector),
      readRecord(kube, c.masterRecord).then(
        (r) => ((paused = r?.paused), r?.pod ?? ''),
        () => undefined,
      ),
    ]);
  } catch (e) {
    out(`verdict: unknown: the API cannot be read: ${apiFailure(e).message}`);
    return 2;
  }
  const o = probeOptions({ ...c, listenAddress: undefined });
  const [roles, engines] = await Promise.all([
    podRoles(
      pods.filter((p) => !p.terminating),
      c.redisPort,
      o,
    ),
    enginesOf(pods, (p) => ({ host: p.ip ?? '', port: c.redisPort }), o),
  ]);
  const sentinels: SentinelStatus[] = await Promise.all(
    (sentinelPods ?? pods).filter(hasIp).map(async (p) => {
      const at = { host: p.ip, port: c.sentinelPort };
      const v = await askSentinel(at, c.masterSet, o);
      const info = await ask(at, forSentinel(o), (r) => r.call('INFO', 'sentinel')).then(
        (x) => parseInfo(String(x)),
        () => ({}) as Record<string, string>,
      );
      return {
        pod: p.name,
        reachable: v.reachable,
        ...(v.reachable ? { master: v.master, failoverInProgress: v.failoverInProgress } : {}),
        tilt: info.sentinel_tilt === '1',
      };
    }),
  );
  const st = setStatus({
    pods,
    roles,
    sentinels,
    record,
    redisPort: c.redisPort,
    quorum: c.quorum,
    lagBytes: LAG_REPORT_BYTES,
    paused,
    engines,
  });
  out(json ? JSON.stringify({ ...st, record: record ?? null, sentinels }, null, 2) : renderStatus(st, record));
  return exitFor(st.verdict);
}

/** The engine each live pod's Redis runs (INFO server: `valkey 8.0.1`), by pod name; undefined: no answer. */
async function enginesOf(
  pods: PodView[],
  at: (p: PodView) => Address,
  o: ProbeOptions,
): Promise<Record<string, string | undefined>> {
  const each = pods.filter(isLive).map(async (p) => {
    const e = await ask(at(p), o, (r) => r.call('INFO', 'server')).then(
      (x) => engineText(engineOf(parseInfo(String(x)))),
      () => undefined,
    );
    return [p.name, e] as const;
  });
  return Object.fromEntries(await Promise.all(each));
}

const exitFor = (verdict: 'healthy' | 'degraded' | 'unknown') =>
  verdict === 'healthy' ? 0 : verdict === 'degraded' ? 1 : 2;

/** Cluster mode: each pod's own view of itself, the cluster-wide facts, and the Lease's record of the formation. */
async function clusterStatusOf(
  c: Config,
  cl: NonNullable<Config['cluster']>,
  kube: Kube,
  json: boolean,
  out: (s: string) => void,
): Promise<number> {
  let pods, lease: ClusterLease | null | undefined;
  try {
    [pods, lease] = await Promise.all([
      listPods(kube, c.podSelector),
      readClusterLease(kube, bootstrapLease(c)).catch(() => undefined),
    ]);
  } catch (e) {
    out(`verdict: unknown: the API cannot be read: ${apiFailure(e).message}`);
    return 2;
  }
  const cc = { ...c, listenAddress: undefined };
  const live = pods.filter(isLive);
  const answers = await Promise.all(live.map((p) => nodeState(cc, podAddress(cc, p))));
  const states = Object.fromEntries(live.map((p, i) => [p.name, answers[i]]));
  const o = probeOptions(cc);
  const engines = await enginesOf(pods, (p) => podAddress(cc, p), o);
  const links = Object.fromEntries(
    await Promise.all(
      live.map(async (p) => {
        const info = await ask(podAddress(cc, p), o, (r) => r.call('INFO', 'replication')).then(
          (x) => parseInfo(String(x)),
          () => ({}) as Record<string, string>,
        );
        return [p.name, info.master_link_status] as const;
      }),
    ),
  );
  // undefined: not formed (yet); null: the Lease is unreadable.
  const formedAt = lease === undefined ? null : lease?.formedAt;
  const nodeIds = lease?.nodeIds;
  const owner = pods.find((p) => p.owner)?.owner;
  const kept = owner ? await statefulSetOrdinals(kube, owner).catch(() => undefined) : undefined;
  const statefulSet = owner && kept ? { name: owner, ...kept } : undefined;
  const replicasPerMaster = cl.replicasPerMaster;
  const st = clusterStatus({ pods, states, links, replicasPerMaster, formedAt, nodeIds, statefulSet, engines });
  out(json ? JSON.stringify({ ...st, formedAt: formedAt ?? null }, null, 2) : renderClusterStatus(st, formedAt));
  return exitFor(st.verdict);
}
