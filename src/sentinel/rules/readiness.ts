// Whether a Redis pod is ready (its Service may send it traffic): a pure function of its INFO and the Sentinels.
import { addr, sameAddress, type Address, type InfoFacts, type SentinelView } from '../../model.ts';
import { sentinelMaster } from './reconcile.ts';

/**
 * Readiness of a Redis pod: a master is ready when the Sentinels agree it is master (or, `sidecar`, when they are
 * all down, its own included, and replicas follow it); a replica when fully synced.
 */
export function redisReadiness(
  self: Address,
  facts: InfoFacts | undefined,
  sentinels: SentinelView[],
  quorum: number,
  knownSentinels: number,
  sidecar = false,
): { ready: boolean; reason: string } {
  if (!facts) return { ready: false, reason: 'Redis does not answer INFO' };
  if (facts.loading) return { ready: false, reason: 'Redis is loading its dataset' };
  if (facts.role === 'slave') {
    if (facts.masterLinkStatus !== 'up') {
      return { ready: false, reason: `replica link is ${facts.masterLinkStatus ?? 'unknown'}` };
    }
    if (facts.syncInProgress) return { ready: false, reason: 'replica sync in progress' };
    return { ready: true, reason: 'replica, link up, synced' };
  }
  if (facts.role === 'master') {
    const s = sentinelMaster(sentinels, quorum, knownSentinels);
    if (s.master && sameAddress(s.master, self)) {
      return { ready: true, reason: `master, confirmed by ${s.count} sentinels` };
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
