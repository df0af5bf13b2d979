// The master of record: which pod was master last, in a coordination.k8s.io/v1 Lease that outlives pods.
// holderIdentity = pod name; the pod IP rides in an annotation. Writes are compare-and-swap on resourceVersion.
import type { V1Lease } from '@kubernetes/client-node';
import type { MasterRecord } from '../model.ts';
import { apiFailure, mergePatch, type Kube } from './api.ts';
import { microTime } from './lock.ts';
import { createLease, currentLease, readLease } from './leases.ts';

const IP_ANNOTATION = 'redis-ha-launcher/master-ip';
/** Maintenance mode: the time `launcher pause` was run (ISO 8601); absent when the set is not paused. */
export const PAUSED_ANNOTATION = 'redis-ha-launcher/paused';

type Lease = { exists: false } | { exists: true; record: MasterRecord; resourceVersion?: string };

function leaseRecord(l: V1Lease): Extract<Lease, { exists: true }> {
  const rv = l.metadata?.resourceVersion;
  return {
    exists: true,
    resourceVersion: rv,
    // A Lease without a holder is still there to be claimed at its resourceVersion: pod '' means no master.
    record: {
      pod: l.spec?.holderIdentity ?? '',
      ip: l.metadata?.annotations?.[IP_ANNOTATION],
      resourceVersion: rv,
      ...(l.metadata?.annotations?.[PAUSED_ANNOTATION] ? { paused: l.metadata.annotations[PAUSED_ANNOTATION] } : {}),
    },
  };
}

async function readRecordLease(kube: Kube, name: string): Promise<Lease> {
  const l = await readLease(kube, name);
  return l ? leaseRecord(l) : { exists: false };
}

export async function readRecord(kube: Kube, name: string): Promise<MasterRecord | null> {
  const l = await readLease(kube, name);
  return l ? leaseRecord(l).record : null;
}

/** The record as its watch last saw it while that is up (no request; writers still compare and swap), else read. */
export async function currentRecord(kube: Kube, name: string): Promise<MasterRecord | null> {
  const l = await currentLease(kube, name);
  return l ? leaseRecord(l).record : null;
}

/**
 * First election: creates the record. Returns false when it exists already (409 AlreadyExists): the Lease is the
 * tie-breaker that rules out two first-boot masters.
 */
export async function createRecord(kube: Kube, name: string, pod: string, ip: string): Promise<boolean> {
  const now = microTime(new Date());
  const spec = { holderIdentity: pod, acquireTime: now, renewTime: now, leaseTransitions: 0 };
  return createLease(kube, name, spec, { annotations: { [IP_ANNOTATION]: ip } });
}

/**
 * First-boot claim: creates the record when none was observed, or replaces the observed (unusable) one only if it
 * is still at the resourceVersion the decision saw. False when another pod got there first: decide again.
 */
export async function claimRecord(
  kube: Kube,
  name: string,
  pod: string,
  ip: string,
  observed: MasterRecord | null,
): Promise<boolean> {
  if (!observed?.resourceVersion) return createRecord(kube, name, pod, ip);
  const now = microTime(new Date());
  try {
    await kube.coordination.patchNamespacedLease(
      {
        name,
        namespace: kube.namespace,
        body: {
          metadata: { resourceVersion: observed.resourceVersion, annotations: { [IP_ANNOTATION]: ip } },
          spec: { holderIdentity: pod, acquireTime: now, renewTime: now },
        },
      },
      mergePatch(),
    );
    return true;
  } catch (e) {
    const code = apiFailure(e).code;
    if (code === 409 || code === 404) return false;
    throw e;
  }
}

/** Points the record at `pod`, creating it if missing; 409s re-read and retry. */
export async function writeRecord(kube: Kube, name: string, pod: string, ip: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const lease = await readRecordLease(kube, name);
    if (!lease.exists) {
      if (await createRecord(kube, name, pod, ip)) return;
      continue;
    }
    if (lease.record?.pod === pod && lease.record.ip === ip) return;
    const now = microTime(new Date());
    const changed = lease.record?.pod !== pod;
    try {
      await kube.coordination.patchNamespacedLease(
        {
          name,
          namespace: kube.namespace,
          body: {
            metadata: { resourceVersion: lease.resourceVersion, annotations: { [IP_ANNOTATION]: ip } },
            spec: { holderIdentity: pod, renewTime: now, ...(changed ? { acquireTime: now } : {}) },
          },
        },
        mergePatch(),
      );
      return;
    } catch (e) {
      if (apiFailure(e).code !== 409 || attempt >= 5) throw e;
    }
  }
}

/**
 * Maintenance mode on (the time now) or off, as an annotation on the master of record, which every supervisor
 * already reads. Returns the record as it is now. Throws when there is no record yet (nothing to pause).
 */
export async function setPaused(kube: Kube, name: string, paused: boolean): Promise<MasterRecord> {
  if (!(await readLease(kube, name))) {
    throw new Error(`there is no master of record (Lease ${name}) yet: the set has not booted`);
  }
  const l = await kube.coordination.patchNamespacedLease(
    {
      name,
      namespace: kube.namespace,
      body: { metadata: { annotations: { [PAUSED_ANNOTATION]: paused ? new Date().toISOString() : null } } },
    },
    mergePatch(),
  );
  return leaseRecord(l).record;
}

/** Since when the set is paused (maintenance mode), or undefined; an unreadable record counts as not paused. */
export async function pausedSince(kube: Kube, name: string): Promise<string | undefined> {
  return (await currentRecord(kube, name).catch(() => null))?.paused;
}
