// `launcher probe readiness|liveness`: the same checks as /readyz and /healthz, for clusters that prefer exec
// probes. Exit 0 when the check holds, 1 otherwise, with one line saying why.
import type { Config } from '../config/types.ts';
import { clusterLiveness, clusterReadiness } from '../cluster/probes.ts';
import type { Kube } from '../kube/api.ts';
import { observe } from '../sentinel/observe.ts';
import { monitoredSets, sentinelGroupReadiness, sentinelLiveness } from '../sentinel/sentinel-container/probes.ts';
import { redisLiveness, redisReadinessCheck } from '../sentinel/redis-container/probes.ts';

export async function probe(
  c: Config,
  kube: Kube,
  kind: 'readiness' | 'liveness',
  out: (s: string) => void,
): Promise<number> {
  let r: { ok: boolean; reason: string };
  if (c.cluster) r = kind === 'liveness' ? await clusterLiveness(c) : await clusterReadiness(c);
  else if (c.sentinelMode && kind === 'liveness') r = await sentinelLiveness(c);
  else if (c.sentinelMode) {
    // A dedicated Sentinel: the sets it monitors now, as Sentinel itself says.
    const sets = c.watchSelector ? await monitoredSets(c).catch(() => undefined) : [c.masterSet];
    r = sets
      ? await sentinelGroupReadiness(c, sets)
      : { ok: false, reason: 'Sentinel does not answer SENTINEL MASTERS' };
  } else if (kind === 'liveness') r = await redisLiveness(c);
  else {
    const o = await observe(c, kube, true);
    r = await redisReadinessCheck(c, o.sentinels, o.knownSentinels);
  }
  out(`${kind}: ${r.ok ? 'ok' : 'not ok'}: ${r.reason}`);
  return r.ok ? 0 : 1;
}
