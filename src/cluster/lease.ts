// Redis Cluster mode's bootstrap Lease, `<set>-cluster`: whoever creates it forms the cluster, and once the
// cluster is formed the Lease says so (a cluster is never formed twice; a holder that died half-way resumes).
import type * as k8s from '@kubernetes/client-node';
import type { Config } from '../config/types.ts';
import { apiFailure, mergePatch, withTimeout, type Kube } from '../kube/api.ts';
import { createLease, currentLease, readLease } from '../kube/leases.ts';
import { microTime } from '../kube/lock.ts';
import { log } from '../runtime/log.ts';
import { BOOTSTRAP_LEASE_MS, type BootstrapPlan } from './rules/decide.ts';
import type { NodeIdRecord } from './rules/rejoin.ts';

/** The Lease that lets exactly one pod form the cluster: `<set>-cluster`. */
export const bootstrapLease = (c: Config) => `${c.masterRecord.replace(/-master$/, '')}-cluster`;
/** On that Lease once the cluster is formed: when. A cluster is never formed twice. */
export const FORMED_ANNOTATION = 'redis-ha-launcher/cluster-formed';

/** On that Lease from the first step: the plan (JSON), which a resumed bootstrap runs again, never another. */
export const PLAN_ANNOTATION = 'redis-ha-launcher/cluster-plan';

/**
 * On that Lease, one per pod (`node-id.redis-ha-launcher/<pod>`): the node IDs the pod ran, the current one first,
 * space-separated (rules/rejoin.ts). One annotation per pod, so that pods never overwrite each other's.
 */
export const NODE_ID_PREFIX = 'node-id.redis-ha-launcher/';

export type ClusterLease = {
  holder: string;
  formedAt?: string;
  plan?: BootstrapPlan;
  nodeIds: NodeIdRecord;
  resourceVersion?: string;
  /** How long this process has seen this version of the Lease (its holder renews it while it forms). */
  unchangedMs: number;
};

/** When this process first saw each version of a bootstrap Lease (monotonic ms), by name: see kube/lock.ts. */
const seen = new Map<string, { version: string; at: number }>();

function planOf(text: string | undefined): BootstrapPlan | undefined {
  if (!text) return undefined;
  try {
    const p = JSON.parse(text) as BootstrapPlan;
    return Array.isArray(p.masters) && Array.isArray(p.replicas) ? p : undefined;
  } catch {
    return undefined;
  }
}

const clusterLeaseOf = (l: k8s.V1Lease): ClusterLease => {
  const formedAt = l.metadata?.annotations?.[FORMED_ANNOTATION];
  const plan = planOf(l.metadata?.annotations?.[PLAN_ANNOTATION]);
  const name = l.metadata?.name ?? '';
  const version = l.metadata?.resourceVersion ?? '';
  const nodeIds: NodeIdRecord = {};
  for (const [k, ids] of Object.entries(l.metadata?.annotations ?? {})) {
    if (k.startsWith(NODE_ID_PREFIX) && ids) nodeIds[k.slice(NODE_ID_PREFIX.length)] = ids.split(' ').filter(Boolean);
  }
  const now = performance.now();
  const o = seen.get(name);
  if (o?.version !== version) seen.set(name, { version, at: now });
  return {
    holder: l.spec?.holderIdentity ?? '',
    ...(formedAt ? { formedAt } : {}),
    ...(plan ? { plan } : {}),
    nodeIds,
    resourceVersion: version,
    unchangedMs: o?.version === version ? now - o.at : 0,
  };
};

/** The bootstrap Lease: its holder, and when the cluster was formed; null when there is none. */
export async function readClusterLease(kube: Kube, name: string): Promise<ClusterLease | null> {
  const l = await readLease(kube, name);
  return l ? clusterLeaseOf(l) : null;
}

/** The bootstrap Lease as its watch holds it (run-cluster watches it), else read. */
export async function currentClusterLease(kube: Kube, name: string): Promise<ClusterLease | null> {
  const l = await currentLease(kube, name);
  return l ? clusterLeaseOf(l) : null;
}

/** On the Lease: from now on no pod forms a cluster again, and the holder resumes nothing. */
export async function recordFormed(c: Config, kube: Kube): Promise<void> {
  await kube.coordination.patchNamespacedLease(
    {
      name: bootstrapLease(c),
      namespace: kube.namespace,
      body: { metadata: { annotations: { [FORMED_ANNOTATION]: new Date().toISOString() } } },
    },
    mergePatch(),
  );
}

/** On the Lease: the node IDs `pod` runs and ran (null: the pod left the cluster, by remove-shard or scale-in). */
export async function recordNodeIds(c: Config, kube: Kube, ids: Record<string, string[] | null>): Promise<void> {
  const annotations = Object.fromEntries(
    Object.entries(ids).map(([pod, x]) => [`${NODE_ID_PREFIX}${pod}`, x ? x.join(' ') : null]),
  );
  await patchLease(kube, bootstrapLease(c), { metadata: { annotations } });
}

/**
 * Takes the bootstrap Lease: created (owned by the StatefulSet, so that deleting the StatefulSet deletes it and a
 * reinstall forms a new cluster), or, with `takeOver`, taken from its holder at the version observed (false when
 * it changed meanwhile: decide again). The plan is stored on it if it has none. True when this pod holds it.
 */
export async function claimBootstrap(
  c: Config,
  kube: Kube,
  plan: BootstrapPlan,
  takeOver: Pick<ClusterLease, 'resourceVersion' | 'plan'> | undefined,
): Promise<boolean> {
  const name = bootstrapLease(c);
  const now = microTime(new Date());
  const annotations = { [PLAN_ANNOTATION]: JSON.stringify(plan) };
  const spec = { holderIdentity: c.podName, renewTime: now, leaseDurationSeconds: BOOTSTRAP_LEASE_MS / 1000 };
  if (takeOver) {
    // Its owner is not changed here: that needs delete on the Lease where owner references are enforced
    // (OwnerReferencesPermissionEnforcement), which the Role does not grant.
    try {
      await kube.coordination.patchNamespacedLease(
        {
          name,
          namespace: kube.namespace,
          body: {
            metadata: { resourceVersion: takeOver.resourceVersion, ...(takeOver.plan ? {} : { annotations }) },
            spec: { ...spec, acquireTime: now },
          },
        },
        mergePatch(),
      );
      return true;
    } catch (e) {
      if (apiFailure(e).code === 409) return false;
      throw e;
    }
  }
  const owner = await ownerOf(c, kube);
  const lease = { ...spec, acquireTime: now, leaseTransitions: 0 };
  if (await createLease(kube, name, lease, { annotations, ...(owner ? { ownerReferences: [owner] } : {}) })) {
    return true;
  }
  // It exists already: this pod holds it only if it created it earlier (a holder back after a restart).
  const l = await readClusterLease(kube, name);
  if (l?.holder !== c.podName) return false;
  if (!l.plan) await patchLease(kube, name, { metadata: { annotations } });
  return true;
}

/**
 * While the holder forms the cluster: the Lease renewed, so that nobody takes it over; only while this pod still
 * holds it, at the version read (false when another pod took it over: the holder stops forming).
 */
export async function renewBootstrap(c: Config, kube: Kube): Promise<boolean> {
  const name = bootstrapLease(c);
  const l = await readLease(kube, name);
  if (l?.spec?.holderIdentity !== c.podName) return false;
  try {
    await patchLease(kube, name, {
      metadata: { resourceVersion: l.metadata?.resourceVersion },
      spec: { renewTime: microTime(new Date()) },
    });
    return true;
  } catch (e) {
    if (apiFailure(e).code === 409) return false;
    throw e;
  }
}

async function patchLease(kube: Kube, name: string, body: object): Promise<void> {
  await kube.coordination.patchNamespacedLease({ name, namespace: kube.namespace, body }, mergePatch());
}

/** This pod's StatefulSet as an owner reference; undefined (and a log line) when it cannot be read. */
async function ownerOf(c: Config, kube: Kube): Promise<k8s.V1OwnerReference | undefined> {
  try {
    const pod = await kube.core.readNamespacedPod({ name: c.podName, namespace: kube.namespace }, withTimeout());
    const ref = pod.metadata?.ownerReferences?.find((r) => r.kind === 'StatefulSet' && r.controller);
    if (!ref) return undefined;
    return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: ref.name, uid: ref.uid };
  } catch (e) {
    log.warn(`the bootstrap Lease gets no owner (this pod cannot be read: ${apiFailure(e).message})`);
    return undefined;
  }
}
