// The fence (redis-container/fence-loop.ts): when a master pauses its writes because no majority of the Sentinels
// names it, and when it resumes them. Pure functions of what the fence loop observed.
import { canonicalHost, sameAddress, type Address, type SentinelView } from '../../model.ts';
import { sentinelMaster } from './reconcile.ts';

export type FenceView = {
  /** Redis answers ROLE master. */
  isMaster: boolean;
  /** A majority of the known Sentinels names this pod master now (sentinelMaster). */
  confirmed: boolean;
  /** When they last did, in this run (ms); undefined: never yet. */
  lastConfirmedAt?: number;
  now: number;
  /** FENCE_AFTER_MS; 0: never fence. */
  fenceAfterMs: number;
  /** Writes are paused by an earlier fence. */
  fenced: boolean;
  /** What the Sentinels say, in words (for the reason). */
  sentinels: string;
  /**
   * No Sentinel answers, this pod's own sidecar included: it shares the pod's network, so no partition hides it;
   * the Sentinels are down (crashed, frozen), and none is electing another master.
   */
  sentinelsDown?: boolean;
  /** Replicas connected to this master now (ROLE): a promoted replica would have left it. */
  following?: number;
  /**
   * The known Sentinels that do not name this pod now (unreachable, or naming another), and how many a failover
   * needs (max(quorum, majority)). Fewer than that cannot elect another master.
   */
  elsewhere?: { voters: number; need: number };
};

export type FenceAction = { kind: 'fence' | 'unfence' | 'none'; reason: string };

/**
 * Whether the Sentinels confirm this pod as master, for the fence: a majority (and the quorum) names it, and no
 * reachable Sentinel that names it (or names none) is failing it over. A failover run by Sentinels that name
 * another address (those cut off with an old master, after a heal) cannot elect against that majority: a Sentinel
 * votes only in a failover of the master it monitors at that address.
 */
export function fenceConfirmed(views: SentinelView[], self: Address, quorum: number, known: number): boolean {
  const s = sentinelMaster(views, quorum, known);
  if (s.master) return sameAddress(s.master, self);
  if (!s.majority || !sameAddress(s.majority, self)) return false;
  return !views.some((v) => v.reachable && v.failoverInProgress && (!v.master || sameAddress(v.master, self)));
}

/**
 * How many of the known Sentinels could vote for another master. Only this pod's own Sentinel (a sidecar, at this
 * pod's address: it shares the pod's network, so no cut separates the two) is sure not to, when it names this pod
 * and is not failing it over (SENTINEL MASTER's address stays the old master until the promotion is over). Any
 * other, naming this pod or not, may vote with Sentinels this pod cannot reach (a cut may be one-way). While any
 * reachable Sentinel reports a failover, all of them.
 */
export function votersElsewhere(views: SentinelView[], self: Address, known: number): number {
  if (views.some((v) => v.reachable && v.failoverInProgress)) return known;
  const own = views.some(
    (v) =>
      v.reachable &&
      canonicalHost(v.sentinel.host) === canonicalHost(self.host) &&
      v.master &&
      sameAddress(v.master, self),
  );
  return Math.max(0, known - (own ? 1 : 0));
}

/**
 * A master that has lost its Sentinels' majority fences itself (pauses writes): the majority may be electing
 * another master, and whatever this one takes meanwhile is lost when it becomes that master's replica. Writes
 * resume when a majority names it again, or once it is a replica. A master never confirmed in this run (booting,
 * Sentinels not monitoring yet) is not fenced, nor one whose Sentinels are all down (its own sidecar too) while
 * its replicas still follow it, nor one where the Sentinels that do not name it are too few to elect another
 * master (a 2-pod set while the replica restarts): nobody can elect another master then, and fencing would only
 * stop the writes.
 */
export function fence(v: FenceView): FenceAction {
  if (!v.fenceAfterMs) return { kind: 'none', reason: 'fencing is off (FENCE_AFTER_MS=0)' };
  if (!v.isMaster) {
    return v.fenced ? { kind: 'unfence', reason: 'Redis is no longer master' } : { kind: 'none', reason: 'not master' };
  }
  if (v.confirmed) {
    return v.fenced
      ? { kind: 'unfence', reason: `a majority of the sentinels names this pod master again (${v.sentinels})` }
      : { kind: 'none', reason: 'master, confirmed by the sentinels' };
  }
  if (v.lastConfirmedAt === undefined) {
    return { kind: 'none', reason: `master not yet confirmed by the sentinels in this run (${v.sentinels})` };
  }
  if (v.elsewhere && v.elsewhere.voters < v.elsewhere.need) {
    const why =
      `only ${v.elsewhere.voters} sentinel(s) could elect another master, ${v.elsewhere.need} needed: no failover ` +
      `is possible (${v.sentinels})`;
    return v.fenced ? { kind: 'unfence', reason: why } : { kind: 'none', reason: `${why}: writes go on` };
  }
  if (v.sentinelsDown && v.following) {
    const why =
      `no sentinel answers, not even this pod's own: they are down, not electing, and ${v.following} ` +
      `replica(s) still follow this master`;
    return v.fenced ? { kind: 'unfence', reason: why } : { kind: 'none', reason: `${why}: writes go on` };
  }
  const since = v.now - v.lastConfirmedAt;
  if (since < v.fenceAfterMs) {
    return {
      kind: 'none',
      reason: `master unconfirmed for ${since} ms (${v.sentinels}); fencing at ${v.fenceAfterMs}`,
    };
  }
  return {
    kind: 'fence',
    reason:
      `no majority of the sentinels has named this pod master for ${since} ms (${v.sentinels}): they may be ` +
      `electing another master, so writes are paused until they name this one again or it becomes a replica`,
  };
}
