// What the launcher observes of the world, as plain immutable data. Adapters fill it; decide.ts reads it.

export type Address = { host: string; port: number };
/**
 * An IPv6 address in its one canonical text form (RFC 5952: lower case, longest zero run compressed), as Redis,
 * Sentinel and Kubernetes print it; anything else as it is. `fd0a:0::2` and `FD0A::2` are the same host.
 */
export function canonicalHost(host: string): string {
  if (!host.includes(':')) return host;
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host;
  }
}
export const addr = (a: Address) => `${canonicalHost(a.host)}:${a.port}`;
export const sameAddress = (a: Address, b: Address) =>
  canonicalHost(a.host) === canonicalHost(b.host) && a.port === b.port;

/** The annotation an operator sets on a pod to let it start as an empty master (see PodView.startEmpty). */
export const START_EMPTY_ANNOTATION = 'redis-ha-launcher/start-empty';

/** A pod of the Redis set, as the Kubernetes API reports it. */
export type PodView = {
  name: string;
  ordinal: number | null;
  /** The pod's address: its IP, or with REDIS_HOSTNAMES its DNS name (once it has an IP). */
  ip?: string;
  /** Its IP when `ip` is its DNS name: what Sentinels and Redis still hand out that knew it by IP (mixed modes). */
  podIp?: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  roleLabel?: string;
  /** Cluster mode: the node ID the pod's supervisor published (annotation redis-ha-launcher/cluster-node-id). */
  clusterNodeId?: string;
  /** Cluster mode: the slots it published (annotation redis-ha-launcher/cluster-slots). */
  clusterSlots?: string;
  /** What the pod's launcher reported about its data dir (annotation); undefined = not reported yet. */
  data?: 'present' | 'empty';
  resourceVersion?: string;
  /** metadata.uid: a pod recreated under the same name has a new one. */
  uid?: string;
  /** Name of the StatefulSet that controls the pod, if any. */
  owner?: string;
  /** The node it is scheduled on (spec.nodeName). */
  node?: string;
  /** The zone of that node, when the pod carries it as a label (topology.kubernetes.io/zone). */
  zone?: string;
  /** An operator annotated the pod `redis-ha-launcher/start-empty=true`: it may start as an empty master although
   * peers have not reported their data (a peer gone for good, or OrderedReady's first boot). */
  startEmpty?: boolean;
  /** The engine its Redis container runs (`valkey 8.0.1`), as its launcher published it at its start. */
  engine?: string;
};

/** A pod with an address that is running and not being deleted: one that can answer. */
export type LivePod = PodView & { ip: string };
/** The pod has this host: its address, or (hostnames mode) the IP behind its name. */
export const podHasHost = (p: PodView, host: string) =>
  Boolean(p.ip) && (p.ip === canonicalHost(host) || p.podIp === canonicalHost(host));
export const isLive = (p: PodView): p is LivePod => Boolean(p.ip) && p.phase === 'Running' && !p.terminating;
export const hasIp = (p: PodView): p is LivePod => Boolean(p.ip);

/** A replica as a Sentinel lists it (SENTINEL REPLICAS). */
export type ListedReplica = Address & {
  /** replica-priority from its last INFO (the default, 100, before the first). */
  priority: number;
  flags: string[];
  /** How long ago the Sentinel read its INFO (`info-refresh`); 0 when never. */
  infoAgeMs: number;
};

/** One Sentinel's answer about the master set. */
export type SentinelView = {
  sentinel: Address;
  reachable: boolean;
  /** The master it names; null when it does not monitor the set. */
  master?: Address | null;
  failoverInProgress?: boolean;
  /**
   * Its failover past the promotion (reconfiguring the other replicas; seconds when one needs a full resync): the
   * replica it promoted, the master it already gives out to clients and to the other Sentinels, while `master`
   * stays the old address until the failover ends. A failover cannot be aborted any more once it promoted.
   */
  promoted?: Address;
  /** The configuration epoch of the master it names (SENTINEL MASTER's config-epoch): a higher one is newer. */
  epoch?: number;
  /** Its down-after-milliseconds for the set: how long a master may be silent before it sees it down. */
  downAfterMs?: number;
};

/**
 * How many Sentinels must name a master before the launcher trusts it: a majority of the known Sentinels (the
 * Sentinel pods the API lists, reachable or not) and at least the quorum. That is what Sentinel itself needs to
 * authorise a failover, so the minority side of a partition, which still names the old master, is never trusted.
 */
export const sentinelsNeeded = (quorum: number, known: number) => Math.max(quorum, Math.floor(known / 2) + 1);

/**
 * What the reachable Sentinels say: who reports a failover in progress, each named master with its count, and the
 * one named by at least `need` of them (a majority: at most one can be), however many others lag behind.
 */
export function tallySentinels<S extends Pick<SentinelView, 'reachable' | 'master' | 'failoverInProgress'>>(
  sentinels: S[],
  need = Infinity,
): {
  /** The reachable ones reporting a failover in progress. */
  failing: S[];
  opinions: { master: Address; count: number }[];
  agreed?: { master: Address; count: number };
} {
  const reachable = sentinels.filter((s) => s.reachable);
  const opinions = new Map<string, { master: Address; count: number }>();
  for (const s of reachable) {
    if (!s.master) continue;
    const k = addr(s.master);
    opinions.set(k, { master: s.master, count: (opinions.get(k)?.count ?? 0) + 1 });
  }
  return {
    failing: reachable.filter((s) => s.failoverInProgress),
    opinions: [...opinions.values()],
    agreed: [...opinions.values()].find((v) => v.count >= need),
  };
}

/** A Redis instance's answer to ROLE. */
export type RoleAnswer =
  | { answered: false }
  | { answered: true; role: 'master'; offset: number; replicas: (Address & { offset: number })[] }
  | { answered: true; role: 'slave'; master: Address; linkState: string; offset: number }
  | { answered: true; role: 'sentinel' };

/** Which pod was master last, kept in a Lease that survives pod deletion; pod '' when the Lease has no holder. */
export type MasterRecord = {
  pod: string;
  ip?: string;
  resourceVersion?: string;
  /** Maintenance mode (`launcher pause`): since when the supervisors observe and report but take no action. */
  paused?: string;
};

export type Observation = {
  self: { name: string; ip: string; ordinal: number | null; hasData: boolean; dataBytes?: number };
  /** A master restarting with data files larger than this hands over before it loads (0: never). */
  loadingHandoverBytes?: number;
  redisPort: number;
  quorum: number;
  pods: PodView[];
  sentinels: SentinelView[];
  /** How many Sentinel pods the API lists (reachable or not): the majority is counted from these. */
  knownSentinels: number;
  /** ROLE answers keyed by "host:port", for every Sentinel-named master and every live pod. */
  roles: Record<string, RoleAnswer>;
  record: MasterRecord | null;
  /** spec.replicas of the StatefulSet that owns this pod, when it can be read: which ordinals will exist. */
  setSize?: number;
  /** spec.ordinals.start of that StatefulSet (0 unless set): its ordinals are setStart .. setStart + setSize - 1. */
  setStart?: number;
  /** Why spec.replicas could not be read although the pod has a StatefulSet (then which peers exist is unknown). */
  setSizeUnknown?: string;
  /** How long this pod has been deciding (ms), and Sentinel's down-after-milliseconds: bounds for a dead master. */
  waitedMs?: number;
  downAfterMs?: number;
  /** The replicas the Sentinels know, asked only when a master they name belongs to no pod (orphaned-master). */
  sentinelReplicas?: Address[];
};

export type Rule = 'sentinels' | 'live-master' | 'master-of-record' | 'first-boot';

export type Decision =
  | { role: 'master'; rule: Rule; reasons: string[] }
  | { role: 'replica'; rule: Rule; master: Address; masterPod?: string; reasons: string[] }
  | { role: 'wait'; reasons: string[] }
  /** Ask Sentinel to fail over to a replica (this pod would load for longer than that takes), then decide again. */
  | { role: 'handover'; rule: Rule; reasons: string[] };

/** What `run` acts on once the decision is safe. */
export type FinalDecision = Extract<Decision, { role: 'master' | 'replica' }>;

/** StatefulSet ordinal from the pod-index label, or the name's -N suffix. */
export function ordinalOf(name: string, labels?: Record<string, string>): number | null {
  const idx = labels?.['apps.kubernetes.io/pod-index'];
  if (idx !== undefined && /^\d+$/.test(idx)) return Number(idx);
  const m = /-(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** INFO fields readiness needs. */
export type InfoFacts = {
  role?: string;
  masterLinkStatus?: string;
  syncInProgress?: boolean;
  loading?: boolean;
  /** A master's replicas online now (INFO slaveN ... state=online). */
  following?: number;
};
