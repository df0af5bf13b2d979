// Pods of the set: read them as PodViews, and write the two things the launcher writes on pods:
// the redis-role label and the data-status annotation.
import type * as k8s from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import { podDnsName } from '../config/names.ts';
import type { Config } from '../config/types.ts';
import { withLock } from './lock.ts';
import { writeRecord } from './record.ts';
import {
  canonicalHost,
  hasIp,
  isLive,
  ordinalOf,
  START_EMPTY_ANNOTATION,
  type Address,
  type PodView,
} from '../model.ts';
import { apiFailure, mergePatch, withTimeout, type Kube } from './api.ts';

export const ROLE_LABEL = 'redis-role';
export const DATA_ANNOTATION = 'redis-ha-launcher/data';
/** The engine the pod's Redis container runs (`valkey 8.0.1`), published at its start for its peers. */
export const ENGINE_ANNOTATION = 'redis-ha-launcher/engine';

/**
 * A pod as the launcher sees it. Its address (`ip`) is its IP; with a DNS domain (REDIS_HOSTNAMES) it is its DNS
 * name, <hostname>.<subdomain>.<namespace>.svc.<domain> (a StatefulSet sets both), once it has an IP (before, the
 * name does not resolve). A pod without a subdomain has no such name and keeps its IP.
 */
/**
 * The zone of the pod's node, where the pod carries it: Kubernetes' PodTopologyLabels admission (beta and on by
 * default since 1.35) copies the node's zone label onto the pod when it is bound; a label-copying controller does
 * the same on older clusters. Without it the launcher knows nodes only (it reads no Node objects).
 */
export const ZONE_LABELS = ['topology.kubernetes.io/zone', 'topology.k8s.io/zone'];
const zoneOf = (labels: Record<string, string>) => ZONE_LABELS.map((k) => labels[k]).find(Boolean);

export function podView(p: k8s.V1Pod, dnsDomain?: string): PodView {
  const labels = p.metadata?.labels ?? {};
  const annotations = p.metadata?.annotations ?? {};
  const ip = p.status?.podIP ? canonicalHost(p.status.podIP) : undefined;
  const sub = p.spec?.subdomain;
  const named =
    ip && dnsDomain && sub
      ? podDnsName(p.spec?.hostname || (p.metadata?.name ?? ''), sub, p.metadata?.namespace ?? '', dnsDomain)
      : ip;
  const data = p.metadata?.annotations?.[DATA_ANNOTATION];
  const startEmpty = p.metadata?.annotations?.[START_EMPTY_ANNOTATION] === 'true';
  return {
    name: p.metadata?.name ?? '',
    ordinal: ordinalOf(p.metadata?.name ?? '', labels),
    ip: named,
    ...(named !== ip ? { podIp: ip } : {}),
    phase: p.status?.phase ?? 'Unknown',
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    terminating: Boolean(p.metadata?.deletionTimestamp),
    roleLabel: labels[ROLE_LABEL],
    ...(annotations['redis-ha-launcher/cluster-node-id']
      ? { clusterNodeId: annotations['redis-ha-launcher/cluster-node-id'] }
      : {}),
    ...(annotations['redis-ha-launcher/cluster-slots']
      ? { clusterSlots: annotations['redis-ha-launcher/cluster-slots'] }
      : {}),
    data: data === 'present' || data === 'empty' ? data : undefined,
    resourceVersion: p.metadata?.resourceVersion,
    ...(p.metadata?.uid ? { uid: p.metadata.uid } : {}),
    owner: p.metadata?.ownerReferences?.find((r) => r.kind === 'StatefulSet' && r.controller)?.name,
    ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
    ...(zoneOf(labels) ? { zone: zoneOf(labels) } : {}),
    ...(startEmpty ? { startEmpty } : {}),
    ...(annotations[ENGINE_ANNOTATION] ? { engine: annotations[ENGINE_ANNOTATION] } : {}),
  };
}

export async function listPods(kube: Kube, labelSelector: string): Promise<PodView[]> {
  const list = await kube.core.listNamespacedPod({ namespace: kube.namespace, labelSelector }, withTimeout());
  return list.items.map((p) => podView(p, kube.dnsDomain));
}

/** The pods a selector picks: from its watch while that is up (no request), else one LIST. */
export async function currentPods(kube: Kube, labelSelector: string): Promise<PodView[]> {
  const cached = kube.watched.pods.get(labelSelector)?.items();
  return cached ? cached.map((p) => podView(p, kube.dnsDomain)) : listPods(kube, labelSelector);
}

/** One pod: from a watch that is up and holds it, else one GET (which also says why it is missing). */
export async function currentPod(kube: Kube, name: string): Promise<PodView> {
  for (const w of kube.watched.pods.values()) {
    const p = w.items()?.find((x) => x.metadata?.name === name);
    if (p) return podView(p, kube.dnsDomain);
  }
  return podView(await kube.core.readNamespacedPod({ name, namespace: kube.namespace }, withTimeout()), kube.dnsDomain);
}

/**
 * Sets (or removes, with null) this pod's redis-role label if it differs, with a resourceVersion precondition;
 * a 409 re-reads and re-applies. Returns whether anything changed.
 */
export async function setRoleLabel(
  kube: Kube,
  name: string,
  value: string | null,
  guard?: (current: PodView) => boolean,
  /** Runs just before the write (e.g. a lock's deadline check, which throws). */
  beforeWrite?: () => void,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const pod = podView(
      await kube.core.readNamespacedPod({ name, namespace: kube.namespace }, withTimeout()),
      kube.dnsDomain,
    );
    if ((pod.roleLabel ?? null) === value) return false;
    if (guard && !guard(pod)) return false;
    beforeWrite?.();
    try {
      await kube.core.patchNamespacedPod(
        {
          name,
          namespace: kube.namespace,
          body: { metadata: { resourceVersion: pod.resourceVersion, labels: { [ROLE_LABEL]: value } } },
        },
        mergePatch(),
      );
      return true;
    } catch (e) {
      if (apiFailure(e).code !== 409 || attempt >= 5) throw e;
    }
  }
}

/** The Lease that serialises master labelling across every writer of a set (`<master-record>-labels`). */
export type LabelLock = { name: string; holder: string };

/**
 * How long one labelling may hold the lock, and how long others wait for it. A holder writes for at most 60% of it
 * (a few labels and the record: ~12 s over an API that answers every call 2 s late); a writer that died is passed
 * over once others have seen its Lease unchanged that long, which a waiter sees within its wait.
 */
const LABEL_LOCK_SECONDS = 30;
const LABEL_LOCK_WAIT_MS = 35_000;

/**
 * Makes `name` the only pod of the set labelled master: every other pod loses `master` first (becoming `slave`),
 * then `name` gets it; with `record`, it becomes the master of record too. Writers with different targets (a
 * supervisor on a pre-failover view, promote on the new master) take turns through a Lease lock, so that no API
 * write ever leaves two pods labelled master, and each re-checks its view (`stale`) once it holds the lock: a writer
 * that waited there through a second failover writes nothing. With `labels: false` (a paused set) only the record.
 */
export async function labelOnlyMaster(
  kube: Kube,
  selector: string,
  name: string,
  lock: LabelLock,
  opts: {
    /** Checked once the lock is held: why this writer's view is stale (then nothing is written), or undefined. */
    stale?: () => Promise<string | undefined>;
    /** The master of record to point at `name` (with this address), under the same lock. */
    record?: { name: string; ip: string };
    labels?: boolean;
  } = {},
): Promise<{ demoted: string[]; promoted: boolean; refused?: string }> {
  return withLock(kube, { ...lock, seconds: LABEL_LOCK_SECONDS, waitMs: LABEL_LOCK_WAIT_MS }, async (inTime) => {
    const refused = await opts.stale?.();
    if (refused) return { demoted: [], promoted: false, refused };
    const demoted: string[] = [];
    let promoted = false;
    if (opts.labels !== false) {
      for (const p of await listPods(kube, selector)) {
        if (p.name !== name && p.roleLabel === 'master') {
          if (await setRoleLabel(kube, p.name, 'slave', (cur) => cur.roleLabel === 'master', inTime)) {
            demoted.push(p.name);
          }
        }
      }
      promoted = await setRoleLabel(kube, name, 'master', undefined, inTime);
    }
    if (opts.record) {
      inTime();
      await writeRecord(kube, opts.record.name, name, opts.record.ip);
    }
    return { demoted, promoted };
  });
}

/**
 * A turn at the label lock: a holder identity unique to this call (named after the pod), so that two labellings
 * in one process (the +switch-master relabel and a promote handed over by the hook) exclude each other too.
 */
export const labelLock = (c: Pick<Config, 'masterRecord' | 'podName'>): LabelLock => ({
  name: `${c.masterRecord}-labels`,
  holder: `${c.podName}/${randomUUID().slice(0, 8)}`,
});

/**
 * Publishes whether this pod's data dir holds data, so peers can decide safely (first boot, lost volumes), and
 * (`engine`, at its start) which engine it runs, so peers know who could follow whom (engines.ts).
 */
export async function annotateData(kube: Kube, name: string, hasData: boolean, engine?: string): Promise<void> {
  const annotations = {
    [DATA_ANNOTATION]: hasData ? 'present' : 'empty',
    ...(engine ? { [ENGINE_ANNOTATION]: engine } : {}),
  };
  await kube.core.patchNamespacedPod(
    { name, namespace: kube.namespace, body: { metadata: { annotations } } },
    mergePatch(),
  );
}

/**
 * The set's Sentinels (the Redis pods themselves when Sentinel is a sidecar): where the live ones answer, and how
 * many the majority is counted from: the Sentinel pods that have an IP, reachable or not (a pod still Pending
 * without one has never run its Sentinel, so it is no voter; one that is down or partitioned away is).
 */
export async function sentinelTargets(
  c: Config,
  kube: Kube,
  redisPods?: PodView[],
): Promise<{ addresses: Address[]; known: number }> {
  const pods = c.sentinelSidecar && redisPods ? redisPods : await currentPods(kube, c.sentinelSelector);
  return {
    addresses: pods.filter(isLive).map((p) => ({ host: p.ip, port: c.sentinelPort })),
    known: pods.filter(hasIp).length,
  };
}
