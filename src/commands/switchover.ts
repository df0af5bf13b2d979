// `launcher switchover [--to <pod>] [--wait]`: a planned, checked handover to an in-sync replica. Sentinel cannot
// be told which replica to promote, so every other replica gets replica-priority 0 for the duration (restored
// afterwards, also on failure); once the Sentinel that will lead sees that, writes are paused (a renewed pause,
// redis/write-pause.ts) and the target must catch up (else nothing is done: the pause lapses, exit 1); then one long
// pause holds the master, the catch-up is confirmed again, SENTINEL FAILOVER runs, and once a majority of the
// Sentinels names the target the old master is made its replica before its writes resume (sentinel/failover.ts).
// No CLIENT UNPAUSE reaches a master: it would also lift its fence. Exit 0 done, 1 failed (everything restored),
// 2 refused (nothing done). In cluster mode, a shard's planned handover: cluster/switchover.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { listPods } from '../kube/pods.ts';
import { readRecord } from '../kube/record.ts';
import { addr, sameAddress, sentinelsNeeded, type Address } from '../model.ts';
import { observeSentinels, podRoles } from '../sentinel/observe.ts';
import { sentinelMaster } from '../sentinel/rules/reconcile.ts';
import { askRole, askSentinel, pairs, forSentinel, probeOptions, withRedis } from '../redis/client.ts';
import { askSentinelsToFailOver, demoteThenUnpause } from '../sentinel/failover.ts';
import { planSwitchover, resumeAfterNoMajority } from '../sentinel/rules/switchover.ts';
import { withEngines } from '../redis/follow-guard.ts';
import { pauseWrites, RenewedPause } from '../redis/write-pause.ts';
import { clusterSwitchover } from '../cluster/switchover.ts';

/** Sentinel reads replica priorities from INFO, every SENTINEL_INFO_PERIOD_MS (1 s by default, 10 s at most). */
const PRIORITY_SEEN_MS = 15_000;
const NAMED_MS = 30_000;
/**
 * The pause that holds the master from the confirmed catch-up until it is a replica (or the Sentinels gave up),
 * renewed every 5 s: if this command dies, it lapses within 35 s.
 */
const HELD_PAUSE = { pauseMs: NAMED_MS + 5000, everyMs: 5000 };

async function until<T>(ms: number, what: () => Promise<T | undefined>): Promise<T | undefined> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    const v = await what().catch(() => undefined);
    if (v !== undefined) return v;
  }
  return undefined;
}

export async function switchover(
  c: Config,
  kube: Kube,
  opts: { to?: string; wait: boolean },
  out: (s: string) => void,
): Promise<number> {
  if (c.cluster) return clusterSwitchover(c, kube, opts, out);
  const o = probeOptions({ ...c, listenAddress: undefined });
  const so = forSentinel(o);
  const [listed, record] = await Promise.all([listPods(kube, c.podSelector), readRecord(kube, c.masterRecord)]);
  // Each pod's engine: a target another pod could not follow is refused (rules/switchover.ts).
  const pods = await withEngines({ ...c, listenAddress: undefined }, listed);
  const roles = await podRoles(pods, c.redisPort, o);
  const { views, known } = await observeSentinels({ ...c, listenAddress: undefined }, kube, pods);
  const plan = planSwitchover({
    pods,
    roles,
    sentinels: views,
    knownSentinels: known,
    quorum: c.quorum,
    redisPort: c.redisPort,
    to: opts.to,
    paused: record?.paused,
    downAfterMs: c.downAfterMs,
  });
  if (!plan.ok) {
    out(`switchover refused: ${plan.reason}`);
    return 2;
  }
  const M: Address = { host: plan.master.ip, port: c.redisPort };
  const T: Address = { host: plan.target.ip, port: c.redisPort };
  // The Sentinel that will lead: one that is not on the master's pod, when there is one.
  const leader = views.find((v) => v.reachable && v.sentinel.host !== M.host)?.sentinel ?? views[0].sentinel;
  const saved: [Address, string][] = [];
  const config = (a: Address, ...args: string[]) => withRedis(a, o, (r) => r.call('CONFIG', ...args));
  const lapsesIn = () => `within ${HELD_PAUSE.pauseMs / 1000} s`;
  try {
    for (const a of plan.others) {
      const was = String(((await config(a, 'GET', 'replica-priority')) as string[])[1]);
      // Already 0 (never promoted, or not synced yet: its supervisor raises it after the first sync): left alone,
      // so that restoring cannot put back a 0 its supervisor has raised meanwhile.
      if (was === '0') continue;
      saved.push([a, was]);
      await config(a, 'SET', 'replica-priority', '0');
    }
    const tp = String(((await config(T, 'GET', 'replica-priority')) as string[])[1]);
    if (tp === '0') {
      saved.push([T, tp]);
      await config(T, 'SET', 'replica-priority', '100');
    }
    // What Sentinel picks from: its own copy of each replica's priority (from INFO, read every 1 to 10 s).
    const prioritiesSeen = async () => {
      const reps = ((await withRedis(leader, so, (r) => r.call('SENTINEL', 'REPLICAS', c.masterSet))) as unknown[]).map(
        pairs,
      );
      const prio = (a: Address) => reps.find((x) => x.ip === a.host && Number(x.port) === a.port)?.['slave-priority'];
      return plan.others.every((a) => prio(a) === '0') && prio(T) !== '0' && prio(T) !== undefined ? true : undefined;
    };
    const seen = await until(PRIORITY_SEEN_MS, prioritiesSeen);
    if (!seen) throw new Error(`the Sentinel at ${addr(leader)} did not see the replica priorities within 15 s`);

    const t0 = Date.now();
    // How long the target has to catch up, under a pause renewed from here: an abort must not hold the master
    // paused until the Sentinels see it down (rules/switchover.ts: from the shortest down-after they report).
    const { window } = plan;
    const renewed = new RenewedPause(M, o, window.pause);
    if (!(await renewed.hold())) throw new Error(`CLIENT PAUSE on ${plan.master.name} failed`);
    // Renewed for the wait only, however long its last ROLE round takes: the pause lapses on time.
    const stopRenewing = setTimeout(() => void renewed.release(), window.waitMs);
    let behind = '';
    const caughtUp = () =>
      until(window.waitMs, async () => {
        const [m, t] = await Promise.all([askRole(M, o), askRole(T, o)]);
        if (!m.answered || !t.answered || m.role !== 'master' || t.role !== 'slave') return undefined;
        behind = `${Math.max(0, m.offset - t.offset)} bytes behind`;
        return t.offset >= m.offset ? true : undefined;
      });
    const notCaughtUp = (resume: string) =>
      new Error(
        `${plan.target.name} did not catch up with ${plan.master.name} within ${window.waitMs} ms ` +
          `(${behind || 'no ROLE answer'}); no failover was asked, writes resume on ${plan.master.name} ${resume}`,
      );
    // From the confirmed catch-up until the old master follows the target (or the switchover gives up), a long
    // pause holds it, renewed from here: however long the Sentinels take, it cannot lapse while a write it took
    // would be lost. A write a late renewal of the short pause let through before it is caught by the check under it.
    const held = new RenewedPause(M, o, HELD_PAUSE);
    let done: { promoted: Address; pauseMs: number } | undefined;
    try {
      try {
        if (!(await caughtUp())) throw notCaughtUp(`within ${renewed.pauseMs} ms`);
        if (!(await held.hold())) throw new Error(`CLIENT PAUSE on ${plan.master.name} failed`);
      } finally {
        clearTimeout(stopRenewing);
        await renewed.release();
      }
      const lapses = `writes resume on ${plan.master.name} when its pause lapses, ${lapsesIn()}`;
      if (!(await caughtUp())) throw notCaughtUp(`when its pause lapses, ${lapsesIn()}`);
      // A replica's supervisor may have raised its priority meanwhile (its first sync done): Sentinel must still
      // see only the target as a candidate.
      if (!(await prioritiesSeen().catch(() => undefined))) {
        throw new Error(`a replica's priority changed under the switchover; no failover was asked; ${lapses}`);
      }
      const masterAt = [M, ...(plan.master.podIp ? [{ host: plan.master.podIp, port: c.redisPort }] : [])];
      const { asked, refusals } = await askSentinelsToFailOver([leader], c.masterSet, masterAt, o, {
        among: views.map((v) => v.sentinel),
        need: sentinelsNeeded(c.quorum, known),
      });
      if (!asked) throw new Error(`the Sentinel refused to fail over: ${refusals.join('; ')}; ${lapses}`);
      const named = await until(NAMED_MS, async () => {
        const vs = await Promise.all(views.map((v) => askSentinel(v.sentinel, c.masterSet, o)));
        const m = sentinelMaster(vs, c.quorum, known).master;
        return m && !sameAddress(m, M) ? m : undefined;
      });
      if (!named) {
        // The failover was asked but no majority names another master. Writes resume on the old master only if
        // Sentinel gave up (nothing promoted, nothing running); else a write it took now would be lost.
        const [m, t, vs] = await Promise.all([
          askRole(M, o),
          askRole(T, o),
          Promise.all(views.map((v) => askSentinel(v.sentinel, c.masterSet, o))),
        ]);
        const after = resumeAfterNoMajority({ master: m, target: t, sentinels: vs, asked });
        // Else held for Sentinel's failover-timeout, after which a failover that has not promoted its target is
        // aborted (the fence alone would resume writes while a majority still names this master).
        if (!after.resume) await pauseWrites(M, c.failoverTimeoutMs, o).catch(() => {});
        throw new Error(
          `the Sentinels did not name a new master within ${NAMED_MS / 1000} s; ` +
            (after.resume
              ? `writes resume on ${plan.master.name} when its pause lapses, ${lapsesIn()} (${after.reason})`
              : `writes on ${plan.master.name} stay paused for the failover timeout (${after.reason})`),
        );
      }
      // Writes resume only once the old master follows the new one: a write it acknowledged now would be lost.
      const stillPaused = await demoteThenUnpause(M, named, o);
      if (stillPaused) throw new Error(`${stillPaused}; its writes stay paused until its pause lapses`);
      done = { promoted: named, pauseMs: Date.now() - t0 };
    } finally {
      await held.release();
    }
    const { promoted, pauseMs } = done;
    if (!sameAddress(promoted, T)) throw new Error(`the Sentinels promoted ${addr(promoted)}, not ${plan.target.name}`);
    if (opts.wait) {
      const agreed = await until(NAMED_MS, async () => {
        const now = await listPods(kube, c.podSelector);
        const labelled = now.filter((p) => p.roleLabel === 'master').map((p) => p.name);
        const r = await askRole(T, o);
        return labelled.length === 1 && labelled[0] === plan.target.name && r.answered && r.role === 'master'
          ? true
          : undefined;
      });
      if (!agreed) throw new Error(`the labels did not follow ${plan.target.name} within ${NAMED_MS / 1000} s`);
    }
    out(
      `switched over from ${plan.master.name} to ${plan.target.name}: writes paused ${pauseMs} ms` +
        (opts.wait ? '; Sentinels, ROLE and labels agree' : ''),
    );
    return 0;
  } catch (e) {
    out(`switchover failed: ${(e as Error).message}`);
    return 1;
  } finally {
    for (const [a, v] of saved) {
      await config(a, 'SET', 'replica-priority', v).catch((e: Error) =>
        out(`could not restore replica-priority ${v} on ${addr(a)}: ${e.message}`),
      );
    }
  }
}
