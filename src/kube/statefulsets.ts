// The StatefulSets the pods belong to: which ordinals each keeps (spec.ordinals.start, spec.replicas).
import { withTimeout, type Kube } from './api.ts';

/**
 * The ordinals the StatefulSet `name` keeps (or recreates): `start` .. `start + replicas - 1`, where start is
 * spec.ordinals.start (0 unless set). Throws API errors.
 */
export async function statefulSetOrdinals(kube: Kube, name: string): Promise<{ start: number; replicas: number }> {
  const sts = await kube.apps.readNamespacedStatefulSet({ name, namespace: kube.namespace }, withTimeout());
  return { start: sts.spec?.ordinals?.start ?? 0, replicas: sts.spec?.replicas ?? 1 };
}
