// A replica held back for its first full sync (replica-priority 0) and raised once synced is Ready only once the
// Sentinels list it as a failover candidate: a rolling update stops the next pod, the master last, as soon as this
// one is Ready, and the master's handover finds no replica to promote while the Sentinels still see the 0 (they
// read a replica's INFO every SENTINEL_INFO_PERIOD_MS, 1 s by default and 10 s where Sentinel keeps its own, and
// find a replica with a new IP in the master's INFO as often).
import type { Config } from '../../config/types.ts';
import { sentinelsNeeded, type SentinelView } from '../../model.ts';
import { probeOptions, sentinelReplicas } from '../../redis/client.ts';
import { log } from '../../runtime/log.ts';
import { selfAddresses } from '../failover.ts';
import { sentinelsListingCandidate } from '../rules/priority.ts';
import type { CandidateSeen } from '../rules/readiness.ts';

/**
 * How long the wait lasts at most: Sentinel finds a new replica and reads its INFO within 10 s each at worst, so
 * twice that and some. Past it (Sentinels down or unreachable) the replica is Ready for its reads anyway.
 */
const CANDIDATE_LISTED_MAX_MS = 30_000;

export class CandidateListing {
  /**
   * 'held': held back for its first sync, not done yet; a time: its first sync was done (and it raised) then, the
   * Sentinels may not list it yet; undefined: not waiting (never held, listed, no candidate at all, or master).
   */
  private state?: 'held' | number;

  constructor(heldForFirstSync: boolean) {
    this.state = heldForFirstSync ? 'held' : undefined;
  }

  /** Its first sync is done and it was raised: the wait starts (it lasts CANDIDATE_LISTED_MAX_MS at most). */
  synced(now: number) {
    if (this.state === 'held') this.state = now;
  }

  /** It stays at 0 after its first sync (an engine holds it back, or REDIS_REPLICA_PRIORITY is 0), or is master. */
  noCandidate() {
    this.state = undefined;
  }

  /**
   * While waiting: how many Sentinels list it as a candidate, of how many needed (a majority). Undefined once
   * enough did, once it is held at 0 again (`priority`: what the supervisor last set), or after the longest wait.
   * A Sentinel counts only once it read the replica's INFO after the raise: until then it may show what it read
   * from the process before (the same address after a restart) or, for a replica it has just found, the default.
   */
  async check(c: Config, views: SentinelView[], known: number, priority: string): Promise<CandidateSeen | undefined> {
    const need = sentinelsNeeded(c.quorum, known);
    const since = this.state;
    if (since === undefined) return undefined;
    if (since === 'held') return { listing: 0, need };
    if (priority === '0' || Date.now() - since > CANDIDATE_LISTED_MAX_MS) {
      if (priority !== '0') log.warn('Ready although the Sentinels did not list it as a failover candidate in 30 s');
      this.state = undefined;
      return undefined;
    }
    const asked = views.filter((v) => v.reachable).map((v) => v.sentinel);
    const lists = await Promise.all(asked.map((s) => sentinelReplicas(s, c.masterSet, probeOptions(c))));
    const listing = sentinelsListingCandidate(lists, selfAddresses(c), Date.now() - since);
    if (listing < need) return { listing, need };
    log.info(`${listing} Sentinels list it as a failover candidate, ${Date.now() - since} ms after its sync`);
    this.state = undefined;
    return undefined;
  }
}
