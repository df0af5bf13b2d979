// Redis Cluster mode's bootstrap Lease, `<set>-cluster`: whoever creates it forms the cluster, and once the
// cluster is formed the Lease says so (a cluster is never formed twice; a holder that died half-way resumes).
import type * as k8s from '@kubernetes/client-node';
import type { Config } from '../config/types.ts';
import { mergePatch, type Kube } from '../kube/api.ts';
import { currentLease, readLease } from '../kube/leases.ts';

/** The Lease that lets exactly one pod form the cluster: `<set>-cluster`. */
export const bootstrapLease = (c: Config) => `${c.masterRecord.replace(/-master$/, '')}-cluster`;
/** On that Lease once the cluster is formed: when. A cluster is never formed twice. */
export const FORMED_ANNOTATION = 'redis-ha-launcher/cluster-formed';

type ClusterLease = { holder: string; formedAt?: string };
const clusterLeaseOf = (l: k8s.V1Lease): ClusterLease => {
  const formedAt = l.metadata?.annotations?.[FORMED_ANNOTATION];
  return { holder: l.spec?.holderIdentity ?? '', ...(formedAt ? { formedAt } : {}) };
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
