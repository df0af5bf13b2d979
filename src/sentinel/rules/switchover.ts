// `launcher switchover`: whether a planned handover may start, and to which replica. A pure function of what was
// observed; commands/switchover.ts does the work.
import { addr, sameAddress, type Address, type PodView, type RoleAnswer, type SentinelView } from '../../model.ts';
import { candidacyProblem, parseEngine } from '../../engines.ts';
import { sentinelMaster } from './reconcile.ts';

/** A target further behind than this is not in sync (it would hold the write pause for long). */
export const IN_SYNC_BYTES = 1 << 20;

/** Below this down-after-milliseconds, no catch-up pause fits inside it (catchUpWindow): refused. */
export const MIN_DOWN_AFTER_MS = 500;

export type SwitchoverPlan =
  | {
      ok: true;
      master: PodView & { ip: string };
      target: PodView & { ip: string };
      others: Address[];
      /** The catch-up wait and its pause, for the shortest down-after of the Sentinels and the setting. */
      window: CatchUpWindow;
    }
  | { ok: false; reason: string };

export function planSwitchover(o: {
  pods: PodView[];
  roles: Record<string, RoleAnswer>;
  sentinels: SentinelView[];
  knownSentinels: number;
  quorum: number;
  redisPort: number;
  to?: string;
  paused?: string;
  /** SENTINEL_DOWN_AFTER_MS; the Sentinels' own, when they report a shorter one, counts. */
  downAfterMs: number;
}): SwitchoverPlan {
  if (o.paused) return { ok: false, reason: `the set is paused (maintenance mode) since ${o.paused}` };
  const downAfter = Math.min(...o.sentinels.map((v) => v.downAfterMs ?? Infinity), o.downAfterMs);
  // Not a number (a Sentinel's odd reply) refuses too.
  if (!(downAfter >= MIN_DOWN_AFTER_MS)) {
    return {
      ok: false,
      reason:
        `down-after-milliseconds is ${downAfter} ms: below ${MIN_DOWN_AFTER_MS} ms the catch-up wait and its pause ` +
        `do not fit within 60 % of it, so an abort could leave a paused master the Sentinels see down; delete the ` +
        `master pod instead (its SIGTERM handover)`,
    };
  }
  const s = sentinelMaster(o.sentinels, o.quorum, o.knownSentinels);
  if (s.busy) return { ok: false, reason: s.busy };
  const named = s.master;
  if (!named) return { ok: false, reason: `no master is named by a majority of the Sentinels (${s.need} needed)` };
  const at = (p: PodView): Address => ({ host: p.ip ?? '', port: o.redisPort });
  const live = o.pods.filter((p): p is PodView & { ip: string } => Boolean(p.ip) && !p.terminating);
  const master = live.find((p) => sameAddress(at(p), named));
  const mRole = master ? o.roles[master.name] : undefined;
  if (!master || !mRole?.answered || mRole.role !== 'master') {
    return { ok: false, reason: `the Sentinels name ${addr(named)}, which does not answer as master` };
  }
  /** Bytes behind the master, or why it is not a replica in sync at all. */
  const lag = (p: PodView): number | string => {
    const r = o.roles[p.name];
    if (!r?.answered) return 'it does not answer';
    if (r.role !== 'slave' || !sameAddress(r.master, at(master))) return `it is not a replica of ${master.name}`;
    if (r.linkState !== 'connected') return `its link to ${master.name} is ${r.linkState}`;
    return Math.max(0, mRole.offset - r.offset);
  };
  /** Why a pod, promoted, could not be followed by every other pod, the master included (engines.ts). */
  const unfollowable = (p: PodView): string | undefined => {
    const e = parseEngine(p.engine);
    return (
      e &&
      candidacyProblem(
        e,
        live.filter((x) => x.name !== p.name).map((x) => ({ pod: x.name, engine: x.engine })),
      )
    );
  };
  let target: (PodView & { ip: string }) | undefined;
  if (o.to) {
    target = live.find((p) => p.name === o.to);
    if (!target) return { ok: false, reason: `no live pod of the set is named ${o.to}` };
    if (target.name === master.name) return { ok: false, reason: `${o.to} is the master already` };
    const l = lag(target);
    if (typeof l === 'string') return { ok: false, reason: `${o.to} is not in sync: ${l}` };
    if (l > IN_SYNC_BYTES) return { ok: false, reason: `${o.to} is not in sync: it lags by ${l} bytes` };
    const held = unfollowable(target);
    if (held) return { ok: false, reason: `${o.to} is ${held}` };
  } else {
    const candidates = live
      .filter((p) => p.name !== master.name)
      .map((p) => ({ p, l: lag(p) }))
      .filter((c): c is { p: PodView & { ip: string }; l: number } => typeof c.l === 'number' && c.l <= IN_SYNC_BYTES)
      .sort((a, b) => a.l - b.l || (a.p.ordinal ?? 0) - (b.p.ordinal ?? 0));
    if (!candidates.length) return { ok: false, reason: `no replica of ${master.name} is in sync` };
    const held = candidates.map((c) => ({ p: c.p, why: unfollowable(c.p) }));
    target = held.find((h) => !h.why)?.p;
    if (!target) return { ok: false, reason: held.map((h) => `${h.p.name} is ${h.why}`).join('; ') };
  }
  const others = live.filter((p) => p.name !== master.name && p.name !== target.name).map(at);
  return { ok: true, master, target, others, window: catchUpWindow(downAfter) };
}

/**
 * After SENTINEL FAILOVER was accepted and no majority of the Sentinels named a new master in time: whether the
 * old master may take writes again. Only when it still answers ROLE master, the target still answers as a replica
 * and no Sentinel reports a failover in progress: a target already promoted (or a failover still running) means a
 * write the old master took now would be lost when it is demoted. Otherwise its pause stays, and lapses on its own
 * while the Redis supervisor's fence keeps it paused as long as no majority names it.
 */
export function resumeAfterNoMajority(o: {
  master: RoleAnswer;
  target: RoleAnswer;
  sentinels: SentinelView[];
  /** The Sentinel that accepted SENTINEL FAILOVER: until its failover times out it may still promote the target. */
  asked?: Address;
}): { resume: boolean; reason: string } {
  const asked = o.asked;
  if (asked && !o.sentinels.find((s) => sameAddress(s.sentinel, asked))?.reachable) {
    return { resume: false, reason: `Sentinel ${addr(asked)}, which took the failover, does not answer` };
  }
  const failing = o.sentinels.filter((s) => s.reachable && s.failoverInProgress).map((s) => addr(s.sentinel));
  if (failing.length) return { resume: false, reason: `Sentinel ${failing.join(', ')} is still failing over` };
  if (o.target.answered && o.target.role === 'master') {
    return { resume: false, reason: 'the target answers ROLE master' };
  }
  if (!o.target.answered) return { resume: false, reason: 'the target does not answer (it may have been promoted)' };
  if (!o.master.answered || o.master.role !== 'master') {
    return {
      resume: false,
      reason: `the old master answers ${o.master.answered ? `ROLE ${o.master.role}` : 'nothing'}`,
    };
  }
  return { resume: true, reason: 'the old master is still master, the target a replica, and no failover runs' };
}

/**
 * How long `launcher switchover` waits for its target to receive everything the paused master acknowledged, and
 * the pause it renews meanwhile. A paused master holds up Sentinel too (its hello PUBLISH counts as a write, its
 * PINGs queue behind it: redis/write-pause.ts), so an abort must leave it paused for well under
 * down-after-milliseconds, or the Sentinels see it down and fail it over anyway: within 60 % of it, at most 2 s of
 * waiting under a 1 s pause (what the default 5 s gives). Below MIN_DOWN_AFTER_MS it cannot fit: planSwitchover
 * refuses.
 */
export type CatchUpWindow = { waitMs: number; pause: { pauseMs: number; everyMs: number } };
export function catchUpWindow(downAfterMs: number): CatchUpWindow {
  const budget = Math.floor(downAfterMs * 0.6);
  const pauseMs = Math.min(1000, Math.max(50, Math.floor(budget / 3)));
  const waitMs = Math.min(2000, Math.max(200, budget - pauseMs));
  return { waitMs, pause: { pauseMs, everyMs: Math.max(20, Math.floor(pauseMs / 5)) } };
}
