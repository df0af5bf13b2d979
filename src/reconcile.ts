// What the supervisor should do about this pod right now, and whether it is ready: pure functions of what it
// observed. The rules:
//   - a pod may label itself `slave` whenever Redis says it is a replica;
//   - it may label itself `master` only when a quorum of Sentinels names it master (never a second master label:
//     the act step removes `master` from every other pod first);
//   - Redis says master but a quorum of Sentinels names another master that answers ROLE master: this pod is a
//     stale master (split brain) and becomes a replica of the real one;
//   - during a failover, or when the Sentinels disagree, nothing is touched.
import {
  addr,
  sameAddress,
  tallySentinels,
  type Address,
  type RoleAnswer,
  type SentinelView,
  type InfoFacts,
} from './model.ts';

export type SupervisorView = {
  self: Address;
  quorum: number;
  local: RoleAnswer;
  label?: string;
  sentinels: SentinelView[];
  /** ROLE of the master the Sentinels name (when it is not this pod). */
  namedMasterRole?: RoleAnswer;
};

export type Action =
  | { kind: 'none'; reason: string }
  | { kind: 'label'; value: 'master' | 'slave'; reason: string }
  | { kind: 'heal'; master: Address; reason: string };

/** The master a quorum of reachable Sentinels names, if they agree and no failover is running. */
export function sentinelMaster(
  sentinels: SentinelView[],
  quorum: number,
): { master?: Address; busy?: string; count: number } {
  const { failing, opinions } = tallySentinels(sentinels);
  if (failing.length) return { busy: 'a failover is in progress', count: 0 };
  if (opinions.length > 1) {
    return { busy: `sentinels disagree (${opinions.map((v) => addr(v.master)).join(', ')})`, count: 0 };
  }
  const [only] = opinions;
  if (only && only.count >= quorum) return { master: only.master, count: only.count };
  return { count: only?.count ?? 0 };
}

export function reconcile(v: SupervisorView): Action {
  if (!v.local.answered) return { kind: 'none', reason: 'Redis does not answer' };
  const s = sentinelMaster(v.sentinels, v.quorum);
  if (v.local.role === 'slave') {
    if (v.label !== 'slave') {
      return {
        kind: 'label',
        value: 'slave',
        reason: `Redis is a replica of ${addr(v.local.master)} but the label is ${v.label ?? '(none)'}`,
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
        `Redis is master; only ${s.count} sentinel(s) name a master (quorum ${v.quorum}), so the label stays ` +
        `${v.label ?? '(none)'}`,
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
    return { kind: 'none', reason: 'master, confirmed by the sentinels; label is true' };
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

/** Readiness of a Redis pod: a master is ready when the Sentinels agree it is master; a replica when fully synced. */
export function redisReadiness(
  self: Address,
  facts: InfoFacts | undefined,
  sentinels: SentinelView[],
  quorum: number,
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
    const s = sentinelMaster(sentinels, quorum);
    if (s.master && sameAddress(s.master, self)) {
      return { ready: true, reason: `master, confirmed by ${s.count} sentinels` };
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
