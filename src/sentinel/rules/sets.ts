// The master sets a Sentinel monitors. A sidecar Sentinel has one, its own pod's (the launcher's settings). A
// dedicated Sentinel (SENTINEL_WATCH_SELECTOR) monitors every Redis StatefulSet the selector picks: one master set
// each, named and timed by the StatefulSet's redis-ha-launcher/* annotations, its pods chosen by the StatefulSet's
// own selector. Pure functions; reading the StatefulSets is the caller's.
import type * as k8s from '@kubernetes/client-node';
import { MASTER_SET_RE, recordNameFor } from '../../config/names.ts';
import type { Config } from '../../config/types.ts';

/** What a Redis StatefulSet's annotations may say about its master set; unset ones take the Sentinel's settings. */
export const SET_ANNOTATIONS = {
  masterSet: 'redis-ha-launcher/master-set',
  masterRecord: 'redis-ha-launcher/master-record',
  quorum: 'redis-ha-launcher/quorum',
  downAfterMs: 'redis-ha-launcher/down-after-ms',
  failoverTimeoutMs: 'redis-ha-launcher/failover-timeout-ms',
  parallelSyncs: 'redis-ha-launcher/parallel-syncs',
} as const;

export type WatchedSet = Pick<
  Config,
  'masterSet' | 'podSelector' | 'masterRecord' | 'quorum' | 'downAfterMs' | 'failoverTimeoutMs' | 'parallelSyncs'
> & { statefulSet: string };

/** A label selector's string form, as `kubectl get -l` takes it. */
export function selectorString(s: k8s.V1LabelSelector | undefined): string {
  const parts = Object.entries(s?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s?.matchExpressions ?? []) {
    const values = `(${(e.values ?? []).join(',')})`;
    if (e.operator === 'In') parts.push(`${e.key} in ${values}`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin ${values}`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/**
 * The sets of the StatefulSets the watch selector picks, and a line for each one left out (a bad annotation, a
 * master-set name two StatefulSets claim, no selector): a set is never monitored on a guess.
 */
export function watchedSets(c: Config, items: k8s.V1StatefulSet[]): { sets: WatchedSet[]; problems: string[] } {
  const problems: string[] = [];
  const sets: WatchedSet[] = [];
  for (const sts of items) {
    const name = sts.metadata?.name ?? '';
    const a = sts.metadata?.annotations ?? {};
    const bad = (key: string, want: string) =>
      `StatefulSet ${name}: ${key}=${JSON.stringify(a[key])} is invalid: ${want}`;
    const int = (key: string, min: number, fallback: number, want: string): number | undefined => {
      const v = a[key];
      if (v === undefined) return fallback;
      if (/^\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= 86_400_000) return Number(v);
      problems.push(bad(key, want));
      return undefined;
    };
    const masterSet = a[SET_ANNOTATIONS.masterSet] ?? name;
    if (!MASTER_SET_RE.test(masterSet)) {
      problems.push(bad(SET_ANNOTATIONS.masterSet, "expected letters, digits, '.', '-' or '_'"));
      continue;
    }
    const podSelector = selectorString(sts.spec?.selector);
    if (!podSelector) {
      problems.push(`StatefulSet ${name} has no pod selector; it is not monitored`);
      continue;
    }
    const quorum = int(SET_ANNOTATIONS.quorum, 1, c.quorum, 'expected a whole number of Sentinels, at least 1');
    const downAfterMs = int(SET_ANNOTATIONS.downAfterMs, 1, c.downAfterMs, 'expected milliseconds, at least 1');
    const failoverTimeoutMs = int(SET_ANNOTATIONS.failoverTimeoutMs, 1, c.failoverTimeoutMs, 'expected milliseconds');
    const parallelSyncs = int(SET_ANNOTATIONS.parallelSyncs, 1, c.parallelSyncs, 'expected a whole number');
    if (quorum === undefined || downAfterMs === undefined || failoverTimeoutMs === undefined) continue;
    if (parallelSyncs === undefined) continue;
    sets.push({
      statefulSet: name,
      masterSet,
      podSelector,
      masterRecord: a[SET_ANNOTATIONS.masterRecord] || recordNameFor(masterSet),
      quorum,
      downAfterMs,
      failoverTimeoutMs,
      parallelSyncs,
    });
  }
  // Two StatefulSets claiming one master-set name: neither is monitored (which one is meant is a guess).
  const count = new Map<string, number>();
  for (const s of sets) count.set(s.masterSet, (count.get(s.masterSet) ?? 0) + 1);
  for (const [m, n] of count) {
    if (n > 1) {
      const which = sets.filter((s) => s.masterSet === m).map((s) => s.statefulSet);
      problems.push(`master set ${m} is claimed by ${n} StatefulSets (${which.join(', ')}); none of them is monitored`);
    }
  }
  return { sets: sets.filter((s) => count.get(s.masterSet) === 1), problems };
}

/** The launcher's settings for one watched set: its names, selector and timings; the rest is the Sentinel's. */
export function setConfig(c: Config, s: WatchedSet): Config {
  const { statefulSet: _sts, ...set } = s;
  return { ...c, ...set, sentinelSidecar: false };
}

/** What changed: sets to start monitoring, sets whose StatefulSet is gone (forgotten once their pods are gone). */
export function setChanges(
  monitored: ReadonlySet<string>,
  wanted: WatchedSet[],
): { add: WatchedSet[]; gone: string[] } {
  const names = new Set(wanted.map((s) => s.masterSet));
  return {
    add: wanted.filter((s) => !monitored.has(s.masterSet)),
    gone: [...monitored].filter((m) => !names.has(m)),
  };
}
