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
  sameAddress,
  sentinelsNeeded,
  tallySentinels,
  type Address,
  type RoleAnswer,
  type SentinelView,
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
): {
  master?: Address;
  busy?: string;
  count: number;
  need: number;
  known: number;
  majority?: Address;
  promoted?: { master: Address; count: number };
} {
  const known = Math.max(knownSentinels, sentinels.length);
  const need = sentinelsNeeded(quorum, known);
  const { failing, opinions, agreed } = tallySentinels(sentinels, need);
  // `majority`: what a majority names even while a failover runs (not to act on; enough to know a view is stale).
  // `promoted`: the replica every running failover has promoted, when a majority gives it out (readiness only).
  if (failing.length) {
    const busy = { busy: 'a failover is in progress', count: 0, need, known, majority: agreed?.master };
    const p = failing[0].promoted;
    if (!p || !failing.every((v) => v.promoted && sameAddress(v.promoted, p))) return busy;
    const givesOut = (v: SentinelView) => (v.failoverInProgress ? v.promoted : v.master);
    const count = sentinels.filter((v) => {
      const g = givesOut(v);
      return v.reachable && Boolean(g) && sameAddress(g as Address, p);
    }).length;
    return count >= need ? { ...busy, promoted: { master: p, count } } : busy;
  }
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
