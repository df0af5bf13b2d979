// What the supervisor should do about this pod right now, and whether it is ready: pure functions of what it
// observed. The rules:
//   - a pod may label itself `slave` whenever Redis says it is a replica;
//   - it may label itself `master` only when a majority of the known Sentinels names it master (never a second
//     master label: the act step removes `master` from every other pod first);
//   - Redis says master but a majority of the Sentinels names another master that answers ROLE master: this pod is a
//     stale master (split brain) and becomes a replica of the real one;
//   - Redis is a replica of another address than the master a majority of the Sentinels names, and that one answers
//     ROLE master: this replica was left behind (a Sentinel that did not know it never reconfigured it) and follows
//     the Sentinels' master;
//   - during a failover, or when the Sentinels disagree, nothing is touched.
import {
  addr,
  canonicalHost,
  sameAddress,
  sentinelsNeeded,
  tallySentinels,
  type Address,
  type RoleAnswer,
  type SentinelView,
  type InfoFacts,
} from '../../model.ts';

export type SupervisorView = {
  self: Address;
  quorum: number;
  /** How many Sentinel pods the API lists: trust needs a majority of them. */
  knownSentinels: number;
  local: RoleAnswer;
  label?: string;
  sentinels: SentinelView[];
  /** This pod's name, and the pod the master of record names ('' for none; undefined when it was not read). */
  podName?: string;
  record?: string;
  /** ROLE of the master the Sentinels name (when it is not this pod). */
  namedMasterRole?: RoleAnswer;
};

export type Action =
  | { kind: 'none'; reason: string }
  | { kind: 'label'; value: 'master' | 'slave'; reason: string }
  | { kind: 'record'; reason: string }
  | { kind: 'heal'; master: Address; reason: string }
  | { kind: 'follow'; master: Address; reason: string };

/**
 * The master a majority of the known Sentinels (and at least the quorum) names, unless a failover is running. One
 * lagging Sentinel does not stand in the way of a majority; Sentinels that disagree with no majority do.
 */
export function sentinelMaster(
  sentinels: SentinelView[],
  quorum: number,
  knownSentinels: number,
): { master?: Address; busy?: string; count: number; need: number; known: number; majority?: Address } {
  const known = Math.max(knownSentinels, sentinels.length);
  const need = sentinelsNeeded(quorum, known);
  const { failing, opinions, agreed } = tallySentinels(sentinels, need);
  // `majority`: what a majority names even while a failover runs (not to act on; enough to know a view is stale).
  if (failing.length) return { busy: 'a failover is in progress', count: 0, need, known, majority: agreed?.master };
  if (agreed) return { master: agreed.master, count: agreed.count, need, known };
  if (opinions.length > 1) {
    return { busy: `sentinels disagree (${opinions.map((v) => addr(v.master)).join(', ')})`, count: 0, need, known };
  }
  return { count: opinions[0]?.count ?? 0, need, known };
}

/**
 * The config epoch at which a reachable Sentinel names this pod, when it is newer than every epoch at which the
 * others name `named`; undefined otherwise (also when the Sentinels do not say their epochs).
 */
function newerEpochNamingSelf(v: SupervisorView, named: Address): number | undefined {
  const epochs = (a: Address) =>
    v.sentinels.filter((x) => x.reachable && x.master && sameAddress(x.master, a)).map((x) => x.epoch);
  const mine = epochs(v.self).filter((e): e is number => e !== undefined);
  const theirs = epochs(named);
  if (!mine.length || theirs.some((e) => e === undefined)) return undefined;
  const best = Math.max(...mine);
  return theirs.every((e) => (e ?? 0) < best) ? best : undefined;
}

export function reconcile(v: SupervisorView): Action {
  if (!v.local.answered) return { kind: 'none', reason: 'Redis does not answer' };
  const s = sentinelMaster(v.sentinels, v.quorum, v.knownSentinels);
  if (v.local.role === 'slave') {
    if (v.label !== 'slave') {
      return {
        kind: 'label',
        value: 'slave',
        reason: `Redis is a replica of ${addr(v.local.master)} but the label is ${v.label ?? '(none)'}`,
      };
    }
    if (
      !s.busy &&
      s.master &&
      !sameAddress(s.master, v.local.master) &&
      !sameAddress(s.master, v.self) &&
      v.namedMasterRole?.answered &&
      v.namedMasterRole.role === 'master'
    ) {
      return {
        kind: 'follow',
        master: s.master,
        reason:
          `Redis is a replica of ${addr(v.local.master)} but ${s.count} sentinels name ${addr(s.master)}, which ` +
          `answers ROLE master: this replica was left behind`,
      };
    }
    return { kind: 'none', reason: `replica of ${addr(v.local.master)}; label is true` };
  }
  if (v.local.role !== 'master') return { kind: 'none', reason: `Redis answers ROLE ${v.local.role}` };
  if (s.busy) return { kind: 'none', reason: `Redis is master; ${s.busy}, so nothing is touched` };
  if (!s.master) {
    return {
      kind: 'none',
      reason:
        `Redis is master; only ${s.count} of ${s.known} known sentinels name a master (${s.need} needed), so the ` +
        `label stays ${v.label ?? '(none)'}`,
    };
  }
  if (sameAddress(s.master, v.self)) {
    if (v.label !== 'master') {
      return {
        kind: 'label',
        value: 'master',
        reason: `sentinels ${s.count} name this pod master but the label is ${v.label ?? '(none)'}`,
      };
    }
    if (v.podName && v.record !== undefined && v.record !== v.podName) {
      return {
        kind: 'record',
        reason: `master, confirmed by the sentinels, but the master of record names ${v.record || 'no pod'}`,
      };
    }
    return { kind: 'none', reason: 'master, confirmed by the sentinels; label is true' };
  }
  // Right after a failover to this pod, its leader names it at a newer epoch while the others still name the old
  // master (until the leader's hello reaches them): that majority is behind, and demoting now would undo the
  // promotion.
  const newer = newerEpochNamingSelf(v, s.master);
  if (newer !== undefined) {
    return {
      kind: 'none',
      reason: `Redis is master; a Sentinel at config epoch ${newer} names this pod: the others have not caught up`,
    };
  }
  if (v.namedMasterRole?.answered && v.namedMasterRole.role === 'master') {
    return {
      kind: 'heal',
      master: s.master,
      reason:
        `Redis says master but ${s.count} sentinels name ${addr(s.master)}, which answers ROLE master: this ` +
        `pod is a stale master`,
    };
  }
  return {
    kind: 'none',
    reason: `Redis is master, the sentinels name ${addr(s.master)}, which does not answer as master; waiting`,
  };
}

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
