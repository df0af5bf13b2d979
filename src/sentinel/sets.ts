// The Redis StatefulSets a dedicated Sentinel monitors (SENTINEL_WATCH_SELECTOR): from a watch while it is up,
// else one list. A sidecar Sentinel's only set is its own pod's.
import type * as k8s from '@kubernetes/client-node';
import type { Config } from '../config/types.ts';
import { watchedSets, type WatchedSet } from './rules/sets.ts';
import { withTimeout, type Kube, type WatchedItems } from '../kube/api.ts';

/** The set of a launcher's own settings (a sidecar Sentinel, a Redis pod). */
export const ownSet = (c: Config): WatchedSet => ({
  statefulSet: '',
  masterSet: c.masterSet,
  podSelector: c.podSelector,
  masterRecord: c.masterRecord,
  quorum: c.quorum,
  downAfterMs: c.downAfterMs,
  failoverTimeoutMs: c.failoverTimeoutMs,
  parallelSyncs: c.parallelSyncs,
});

export async function currentSets(
  c: Config,
  kube: Kube,
  watched?: WatchedItems<k8s.V1StatefulSet>,
): Promise<{ sets: WatchedSet[]; problems: string[] }> {
  if (!c.watchSelector) return { sets: [ownSet(c)], problems: [] };
  const items =
    watched?.items() ??
    (
      await kube.apps.listNamespacedStatefulSet(
        { namespace: kube.namespace, labelSelector: c.watchSelector },
        withTimeout(),
      )
    ).items;
  return watchedSets(c, [...items]);
}
