// The one way a pod becomes the master in Kubernetes' eyes (its label and the master of record), whoever asks: the
// boot path, the Redis supervisor's label repair, promote and the +switch-master relabel. Under the label lock it
// re-checks that the pod is still the master, so that a writer that waited there through a second failover
// writes nothing.
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { labelLock, labelOnlyMaster } from '../kube/pods.ts';
import { addr, sameAddress, type Address, type SentinelView } from '../model.ts';
import { askRole, localRedis, probeOptions } from '../redis/client.ts';
import { observeSentinels } from './observe.ts';
import { sentinelMaster } from './rules/reconcile.ts';

/**
 * Why making `pod` the master now would be stale, or undefined: its Redis (asked at `ask`, e.g. over loopback for
 * this pod) no longer answers ROLE master, or a majority of the Sentinels names another master (as `named` is
 * not what the Sentinels call this pod's Redis).
 */
export async function masterStale(c: Config, kube: Kube, named: Address, ask = named): Promise<string | undefined> {
  const role = await askRole(ask, probeOptions(c));
  if (!role.answered || role.role !== 'master') {
    return `${addr(named)} answers ${role.answered ? `ROLE ${role.role}` : 'nothing'}`;
  }
  // Answers count as they arrive: once a majority agrees, the silent (partitioned) ones are not waited for.
  const decided = (views: SentinelView[], known: number) => {
    const m = sentinelMaster(views, c.quorum, known);
    return Boolean(m.master ?? m.majority);
  };
  const { views, known } = await observeSentinels(c, kube, undefined, decided);
  const { master, majority } = sentinelMaster(views, c.quorum, known);
  const other = master ?? majority;
  if (other && !sameAddress(other, named)) return `a majority of the Sentinels now names ${addr(other)}`;
  return undefined;
}

/**
 * Labels `pod` the only master of the set and points the master of record at it (only the record while the set is
 * paused: maintenance freezes labels, never the record), holding the label lock, after masterStale finds nothing.
 */
export function makeMaster(
  c: Config,
  kube: Kube,
  pod: { name: string; ip: string },
  named: Address,
  opts: { ask?: Address; paused?: boolean } = {},
): Promise<{ demoted: string[]; promoted: boolean; refused?: string }> {
  return labelOnlyMaster(kube, c.podSelector, pod.name, labelLock(c), {
    stale: () => masterStale(c, kube, named, opts.ask),
    record: { name: c.masterRecord, ip: pod.ip },
    labels: !opts.paused,
  });
}

/** makeMaster for the pod this process runs in, its Redis asked over loopback. */
export const makeThisPodMaster = (c: Config, kube: Kube) =>
  makeMaster(
    c,
    kube,
    { name: c.podName, ip: c.podHost },
    { host: c.podHost, port: c.redisPort },
    { ask: localRedis(c) },
  );
