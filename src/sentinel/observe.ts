// Observe: gather one immutable snapshot of Kubernetes, the Sentinels and the Redis pods. Read-only.
import type { Config } from '../config/types.ts';
import { apiFailure, type Kube } from '../kube/api.ts';
import { listPods, sentinelTargets } from '../kube/pods.ts';
import { readRecord } from '../kube/record.ts';
import { statefulSetOrdinals } from '../kube/statefulsets.ts';
import {
  addr,
  hasIp,
  podHasHost,
  isLive,
  ordinalOf,
  type Address,
  type Observation,
  type PodView,
  type RoleAnswer,
  type SentinelView,
} from '../model.ts';
import type { ApiLessObservation } from './rules/boot-without-api.ts';
import { untilEnough } from '../runtime/until-enough.ts';
import { dataDirBytes, dataDirHasData } from '../redis/data-dir.ts';
import {
  ask,
  askRole,
  askSentinel,
  pairs,
  forSentinel,
  probeOptions,
  sentinelReplicas,
  type ProbeOptions,
} from '../redis/client.ts';

/**
 * spec.replicas of the StatefulSet owning this pod: which ordinals will exist. Nothing when the pod has no
 * StatefulSet; `unknown` (with the reason) when it has one that cannot be read (RBAC, API errors): never "gone".
 */
async function setSize(
  kube: Kube,
  owner: string | undefined,
): Promise<{ setSize?: number; setStart?: number; setSizeUnknown?: string }> {
  if (!owner) return {};
  try {
    const { start, replicas } = await statefulSetOrdinals(kube, owner);
    return { setSize: replicas, setStart: start };
  } catch (e) {
    return { setSizeUnknown: `reading StatefulSet ${owner}: ${apiFailure(e).message}` };
  }
}

/** ROLE of each given pod's Redis (those with an IP), by pod name. */
export async function podRoles(pods: PodView[], port: number, o: ProbeOptions): Promise<Record<string, RoleAnswer>> {
  const asked = pods.filter(hasIp).map(async (p) => [p.name, await askRole({ host: p.ip, port }, o)] as const);
  return Object.fromEntries(await Promise.all(asked));
}

/** What every live Sentinel of the set says about it, and how many Sentinels the majority is counted from. */
export async function observeSentinels(
  c: Config,
  kube: Kube,
  redisPods?: PodView[],
  enough?: (views: SentinelView[], known: number) => boolean,
): Promise<{ views: SentinelView[]; known: number }> {
  const targets = await sentinelTargets(c, kube, redisPods);
  return askSentinels(c, targets, enough && ((views) => enough(views, targets.known)));
}

/**
 * What each of the given Sentinels says of this set's master, and how many Sentinels the majority counts. With
 * `enough`, it returns as soon as the answers so far satisfy it, without the Sentinels still silent (a partitioned
 * one answers only when the probe timeout ends).
 */
export async function askSentinels(
  c: Config,
  targets: { addresses: Address[]; known: number },
  enough: (views: SentinelView[]) => boolean = () => false,
): Promise<{ views: SentinelView[]; known: number }> {
  const asks = targets.addresses.map((s) => askSentinel(s, c.masterSet, probeOptions(c)));
  return { views: await untilEnough(asks, enough), known: targets.known };
}

export async function observe(c: Config, kube: Kube, hasData?: boolean): Promise<Observation> {
  const [pods, record, selfHasData, dataBytes] = await Promise.all([
    listPods(kube, c.podSelector),
    readRecord(kube, c.masterRecord),
    hasData ?? dataDirHasData(c.dataDir),
    dataDirBytes(c.dataDir),
  ]);
  const self = pods.find((p) => p.name === c.podName);
  const probe = probeOptions(c);
  const { views: sentinels, known } = await observeSentinels(c, kube, pods);
  const targets = new Map<string, Address>();
  for (const s of sentinels) if (s.master) targets.set(addr(s.master), s.master);
  for (const p of pods.filter(isLive)) targets.set(`${p.ip}:${c.redisPort}`, { host: p.ip, port: c.redisPort });
  const [answers, size, sentinelReplicas] = await Promise.all([
    Promise.all([...targets.values()].map(async (a) => [addr(a), await askRole(a, probe)] as const)),
    setSize(kube, self?.owner),
    replicasOfUnownedMasters(c, sentinels, pods),
  ]);
  return {
    self: {
      name: c.podName,
      ip: c.podHost,
      ordinal: self?.ordinal ?? ordinalOf(c.podName),
      hasData: selfHasData,
      dataBytes,
    },
    loadingHandoverBytes: c.loadingHandoverBytes,
    redisPort: c.redisPort,
    quorum: c.quorum,
    pods,
    sentinels,
    knownSentinels: known,
    roles: Object.fromEntries(answers),
    record,
    ...size,
    downAfterMs: c.downAfterMs,
    ...(sentinelReplicas ? { sentinelReplicas } : {}),
  };
}

/**
 * The replicas the Sentinels know (SENTINEL REPLICAS), asked only when a master they name belongs to no pod (the
 * orphaned-master rule needs them: Sentinel can fail over only to a replica it knows). Undefined otherwise, and
 * when a Sentinel that names such a master cannot say.
 */
async function replicasOfUnownedMasters(
  c: Config,
  sentinels: SentinelView[],
  pods: PodView[],
): Promise<Address[] | undefined> {
  const unowned = (m: Address | null | undefined) => Boolean(m && !pods.some((p) => podHasHost(p, m.host)));
  const naming = sentinels.filter((s) => s.reachable && unowned(s.master));
  if (!naming.length) return undefined;
  const lists = await Promise.all(naming.map((s) => sentinelReplicas(s.sentinel, c.masterSet, probeOptions(c))));
  if (lists.some((l) => l === undefined)) return undefined;
  return lists.flatMap((l) => (l ?? []).map(({ host, port }) => ({ host, port })));
}

/**
 * With the API down: this pod's own Sentinel (a sidecar) and the peers it knows (SENTINEL SENTINELS), what each
 * names, and ROLE of every master they name. No Sentinel at all when the Sentinels are not sidecars.
 */
export async function observeWithoutApi(c: Config, apiError: string): Promise<ApiLessObservation> {
  const probe = probeOptions(c);
  const own: Address = { host: c.podHost, port: c.sentinelPort };
  const base = { apiError, self: { host: c.podHost, port: c.redisPort }, quorum: c.quorum, roles: {} };
  if (!c.sentinelSidecar) return { ...base, sentinels: [], known: 0 };
  const peers = await ask(own, forSentinel(probe), (r) => r.call('SENTINEL', 'SENTINELS', c.masterSet))
    .then((reply) =>
      (reply as unknown[]).map((flat) => {
        const p = pairs(flat);
        return { host: p.ip, port: Number(p.port) };
      }),
    )
    .catch(() => [] as Address[]);
  const sentinels = await Promise.all([own, ...peers].map((s) => askSentinel(s, c.masterSet, probe)));
  const named = new Map<string, Address>();
  for (const v of sentinels) if (v.master) named.set(addr(v.master), v.master);
  const roles = Object.fromEntries(
    await Promise.all([...named.values()].map(async (a) => [addr(a), await askRole(a, probe)] as const)),
  );
  return { ...base, sentinels, known: 1 + peers.length, roles };
}
