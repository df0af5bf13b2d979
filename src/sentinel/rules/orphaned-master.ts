// A master the Sentinels name that no pod of the set has: after a whole set is restarted with new IPs while its
// Sentinels kept running (dedicated Sentinels), they name the old master's address and know only old replica
// addresses, so they can never fail over. Such an address is no master: the pods fall through to the master of
// record, and the Sentinels are pointed at the pod that became master. Pure rules.
import { addr, canonicalHost, isLive, podHasHost, type Address, type PodView, type RoleAnswer } from '../../model.ts';

export type OrphanView = {
  /** The master the Sentinels name. */
  named: Address;
  pods: PodView[];
  redisPort: number;
  /** ROLE answers by "host:port": the named master's and every live pod's. */
  roles: Record<string, RoleAnswer>;
  /** How long it has been seen this way (ms), and how long that must last: Sentinel's down-after-milliseconds. */
  forMs: number;
  downAfterMs: number;
  /**
   * The replicas the Sentinels know (SENTINEL REPLICAS of every Sentinel naming it): Sentinel fails over only to
   * one of these. Undefined when they could not all be asked.
   */
  sentinelReplicas?: Address[];
  /** The master of record's pod, and the address it was written with. */
  record?: string;
  recordIp?: string;
};

const answersMaster = (v: OrphanView, p: PodView) => {
  const r = v.roles[`${p.ip}:${v.redisPort}`];
  return Boolean(r?.answered && r.role === 'master');
};

/**
 * Why the named master is no master (no pod of the set has its address, it does not answer, and no live pod is a
 * replica of it, and no replica the Sentinels know is a live pod: nobody Sentinel could promote, for
 * down-after-milliseconds; and the master of record was
 * written for that very address, so the record's pod is the same master come back with a new IP), or undefined
 * while it may be one. A record written for another address (a promote that never reached the API) may be older
 * than the Sentinels' master: then nothing is replaced, as which pod had the address is unknown.
 */
export function orphanedMaster(v: OrphanView): string | undefined {
  if (v.named.port !== v.redisPort || v.pods.some((p) => podHasHost(p, v.named.host))) return undefined;
  if (v.roles[addr(v.named)]?.answered) return undefined;
  const promotable = v.pods.filter(isLive).filter((p) => {
    const r = v.roles[`${p.ip}:${v.redisPort}`];
    return r?.answered && r.role === 'slave' && addr(r.master) === addr(v.named);
  });
  if (promotable.length || v.forMs < v.downAfterMs) return undefined;
  // Sentinel can fail over to a replica it knows at a live pod's address, whether that pod answers us or not (a
  // timeout, a password being rotated): not orphaned then. After a whole set restarted with new IPs, every replica
  // the Sentinels know is an old address.
  if (!v.sentinelReplicas) return undefined;
  const live = v.pods.filter(isLive);
  if (v.sentinelReplicas.some((r) => r.port === v.redisPort && live.some((p) => podHasHost(p, r.host)))) {
    return undefined;
  }
  const recordRuns = v.pods.filter(isLive).some((p) => p.name === v.record && answersMaster(v, p));
  const recordOfIt = v.recordIp !== undefined && canonicalHost(v.recordIp) === canonicalHost(v.named.host);
  if (!recordOfIt && !recordRuns) return undefined;
  return (
    `${addr(v.named)} belongs to no pod of the set, does not answer and has no replica Sentinel could promote ` +
    `(for ${Math.round(v.forMs / 1000)} s), so it is no master; ` +
    (recordRuns ? `the master of record, ${v.record}, runs as master` : 'the master of record was written for it')
  );
}

/**
 * Where the Sentinels should point instead of an orphaned master: the one live pod that answers ROLE master, when
 * it is the master of record. Undefined (with nothing done) otherwise.
 */
export function repointTarget(v: OrphanView): { pod: string; master: Address; reason: string } | undefined {
  const orphan = orphanedMaster(v);
  if (!orphan) return undefined;
  const masters = v.pods.filter(isLive).filter((p) => answersMaster(v, p));
  if (masters.length !== 1 || masters[0].name !== v.record) return undefined;
  const p = masters[0];
  return {
    pod: p.name,
    master: { host: p.ip, port: v.redisPort },
    reason: `${orphan}; ${p.name}, the master of record, answers ROLE master alone`,
  };
}
