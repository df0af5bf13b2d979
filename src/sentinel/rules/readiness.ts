// Whether a Redis pod is ready (its Service may send it traffic): a pure function of its INFO and the Sentinels.
import { addr, sameAddress, type Address, type InfoFacts, type SentinelView } from '../../model.ts';
import { sentinelMaster } from './reconcile.ts';

/**
 * A replica's wait, after its first full sync, for the Sentinels to see that it may be promoted: how many list it
 * with a replica-priority above 0, of how many needed (a majority: model.ts sentinelsNeeded). Until then a planned
 * handover, which a rolling update starts as soon as this pod is Ready, would find no replica to promote.
 */
export type CandidateSeen = { listing: number; need: number };

/**
 * Readiness of a Redis pod: a master is ready when the Sentinels agree it is master (or, `sidecar`, when they are
 * all down, its own included, and replicas follow it); a replica when fully synced and, when `candidate` is given
 * (it was held back for its first sync and is a failover candidate since), once enough Sentinels list it as one.
 */
export function redisReadiness(
  self: Address,
  facts: InfoFacts | undefined,
  sentinels: SentinelView[],
  quorum: number,
  knownSentinels: number,
  sidecar = false,
  candidate?: CandidateSeen,
): { ready: boolean; reason: string } {
  if (!facts) return { ready: false, reason: 'Redis does not answer INFO' };
  if (facts.loading) return { ready: false, reason: 'Redis is loading its dataset' };
  if (facts.role === 'slave') {
    if (facts.masterLinkStatus !== 'up') {
      return { ready: false, reason: `replica link is ${facts.masterLinkStatus ?? 'unknown'}` };
    }
    if (facts.syncInProgress) return { ready: false, reason: 'replica sync in progress' };
    if (candidate && candidate.listing < candidate.need) {
      return {
        ready: false,
        reason:
          `replica, synced, but ${candidate.listing} Sentinel(s) list it as a failover candidate, ` +
          `${candidate.need} needed (a Sentinel reads a replica's replica-priority in its INFO, every 1 to 10 s)`,
      };
    }
    return { ready: true, reason: 'replica, link up, synced' };
  }
  if (facts.role === 'master') {
    const s = sentinelMaster(sentinels, quorum, knownSentinels);
    if (s.master && sameAddress(s.master, self)) {
      return { ready: true, reason: `master, confirmed by ${s.count} sentinels` };
    }
    // A failover past promoting it cannot be aborted any more: Ready already while it reconfigures the other
    // replicas (its label moves at the same point, promote/relabel.ts), not seconds later. (A failover at a higher
    // epoch may still replace it: one that has not promoted it makes this busy again.)
    if (s.promoted && sameAddress(s.promoted.master, self)) {
      return {
        ready: true,
        reason: `master, promoted by a failover past its promotion: ${s.promoted.count} sentinels give it out`,
      };
    }
    // As for fencing: every Sentinel down, this pod's own too, while replicas follow it: nobody elects another.
    const everyOneAsked = sentinels.length >= knownSentinels;
    if (sidecar && everyOneAsked && !sentinels.some((v) => v.reachable) && facts.following) {
      return {
        ready: true,
        reason: `master; no sentinel answers, not even this pod's own, and ${facts.following} replica(s) follow it`,
      };
    }
    return {
      ready: false,
      reason:
        `master, but the sentinels do not confirm it ` +
        `(${s.busy ?? `${s.count} name ${s.master ? addr(s.master) : 'no master'}`})`,
    };
  }
  return { ready: false, reason: `unexpected role ${facts.role}` };
}
