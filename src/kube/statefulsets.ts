// The StatefulSets the pods belong to: which ordinals each keeps (spec.ordinals.start, spec.replicas).
import { withTimeout, type Kube } from './api.ts';

/**
 * The ordinals the StatefulSet `name` keeps (or recreates): `start` .. `start + replicas - 1`, where start is
 * spec.ordinals.start (0 unless set); `scaledVolumesDeleted` when a scale-down deletes the removed pods' claims
 * (persistentVolumeClaimRetentionPolicy.whenScaled: Delete; Retain is the default). Throws API errors.
 */
export async function statefulSetOrdinals(
  kube: Kube,
  name: string,
): Promise<{ start: number; replicas: number; scaledVolumesDeleted?: boolean }> {
  const sts = await kube.apps.readNamespacedStatefulSet({ name, namespace: kube.namespace }, withTimeout());
  const deleted = sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete';
  return {
    start: sts.spec?.ordinals?.start ?? 0,
    replicas: sts.spec?.replicas ?? 1,
    ...(deleted ? { scaledVolumesDeleted: true } : {}),
  };
}

/**
 * Why `launcher run` may not run in this pod's StatefulSet, or undefined. podManagementPolicy OrderedReady
 * (Kubernetes' default when unset) deadlocks a full restart whose master of record is not the lowest ordinal: the
 * lower pods wait for the record pod, which the controller creates only once they are Ready; and a Sentinel is
 * Ready only with its quorum, which the first pod alone never has. Nothing is refused when the pod or its
 * StatefulSet cannot be read (the launcher then decides as it can).
 */
export async function podManagementProblem(kube: Kube, podName: string): Promise<string | undefined> {
  try {
    const pod = await kube.core.readNamespacedPod({ name: podName, namespace: kube.namespace }, withTimeout());
    const owner = pod.metadata?.ownerReferences?.find((r) => r.kind === 'StatefulSet' && r.controller)?.name;
    if (!owner) return undefined;
    const sts = await kube.apps.readNamespacedStatefulSet({ name: owner, namespace: kube.namespace }, withTimeout());
    const policy = sts.spec?.podManagementPolicy ?? 'OrderedReady';
    // One pod never waits for another: no deadlock (scaled up later, the new pods refuse).
    if (policy !== 'OrderedReady' || (sts.spec?.replicas ?? 1) <= 1) return undefined;
    return (
      `StatefulSet ${owner} has podManagementPolicy OrderedReady${sts.spec?.podManagementPolicy ? '' : ' (unset)'}, ` +
      `which deadlocks a full restart (a pod waits for the master of record, which the controller creates only ` +
      `once that pod is Ready); it needs podManagementPolicy: Parallel, which cannot be changed in place: ` +
      `kubectl delete statefulset ${owner} --cascade=orphan, then apply it with Parallel (the pods and volumes stay)`
    );
  } catch {
    return undefined;
  }
}
