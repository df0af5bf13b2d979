// Reading a coordination.k8s.io/v1 Lease, the one way every Lease of the product is read (the master of record,
// the label lock, Redis Cluster mode's bootstrap Lease): a missing Lease is null, not an error, and a Lease whose
// watch is up is taken from the watch's cache (no request; writers still compare and swap). Creating one: the one
// way too (createLease), labelled as the launcher's.
import type { V1Lease, V1OwnerReference } from '@kubernetes/client-node';
import { apiFailure, withTimeout, type Kube } from './api.ts';

/** The Lease as the API has it now; null when there is none (404). */
export async function readLease(kube: Kube, name: string): Promise<V1Lease | null> {
  try {
    return await kube.coordination.readNamespacedLease({ name, namespace: kube.namespace }, withTimeout());
  } catch (e) {
    if (apiFailure(e).code === 404) return null;
    throw e;
  }
}

/** The Lease as its watch last saw it while that watch is up, else read. */
export async function currentLease(kube: Kube, name: string): Promise<V1Lease | null> {
  const cached = kube.watched.leases.get(name)?.items();
  if (!cached) return readLease(kube, name);
  return cached.find((x) => x.metadata?.name === name) ?? null;
}

/**
 * Creates a Lease labelled as the launcher's (`spec` as the API takes it: MicroTime strings). False when it exists
 * already (409 AlreadyExists): whoever created it first holds it.
 */
export async function createLease(
  kube: Kube,
  name: string,
  spec: Record<string, unknown>,
  meta: { annotations?: Record<string, string>; ownerReferences?: V1OwnerReference[] } = {},
): Promise<boolean> {
  try {
    await kube.coordination.createNamespacedLease(
      {
        namespace: kube.namespace,
        body: {
          metadata: {
            name,
            namespace: kube.namespace,
            ...meta,
            labels: { 'app.kubernetes.io/managed-by': 'redis-ha-launcher' },
          },
          spec: spec as never,
        },
      },
      withTimeout(),
    );
    return true;
  } catch (e) {
    if (apiFailure(e).code === 409) return false;
    throw e;
  }
}
