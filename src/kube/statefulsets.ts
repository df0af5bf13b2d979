// The StatefulSets the pods belong to: how many ordinals each will have (spec.replicas).
import { withTimeout, type Kube } from './api.ts';

/** spec.replicas of the StatefulSet `name`: the ordinals 0 .. n-1 it keeps (or recreates). Throws API errors. */
export async function statefulSetReplicas(kube: Kube, name: string): Promise<number> {
  const sts = await kube.apps.readNamespacedStatefulSet({ name, namespace: kube.namespace }, withTimeout());
  return sts.spec?.replicas ?? 1;
}
