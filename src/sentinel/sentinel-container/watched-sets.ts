// The master sets a running Sentinel monitors, and (a dedicated Sentinel, SENTINEL_WATCH_SELECTOR) the loop that
// keeps them in step with the Redis StatefulSets: a set that appears is monitored once its master is decided by
// the same rule as at start (never a guess); a set whose StatefulSet is gone is forgotten once its pods are gone
// too; a changed quorum or timing annotation is applied with SENTINEL SET. Each step is logged in one sentence.
import { redisFailure } from '../../redis/errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import type { Config } from '../../config/types.ts';
import { apiFailure, type Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { listPods } from '../../kube/pods.ts';
import { currentSets } from '../sets.ts';
import { startWatches, watchStatefulSets, type Watched } from '../../kube/watch.ts';
import { decideSentinelMaster } from '../rules/monitor.ts';
import { log } from '../../runtime/log.ts';
import { PeriodicLoop } from '../../runtime/loop.ts';
import { addr, hasIp, isLive, type Address, type Observation } from '../../model.ts';
import { observe } from '../observe.ts';
import { forSentinel, localSentinel, probeOptions, withRedis } from '../../redis/client.ts';
import { sentinelMonitorCommands, sentinelTimings, type SentinelMonitor, type SentinelSeed } from '../../redis/conf.ts';
import { setChanges, setConfig, type WatchedSet } from '../rules/sets.ts';

/** At first boot the replicas may still be deciding: how long to wait for them so that they can be pre-seeded. */
const SEED_WAIT_MS = 5000;
/** How often a dedicated Sentinel compares the sets it monitors with the StatefulSets. */
export const SET_LOOP_MS = 2000;

/**
 * Peers and replicas to pre-seed: live Sentinel pods other than this one; pods whose Redis replicates the master.
 * (A name that does not resolve yet is fine: Sentinel 7.0 loads it unresolved and resolves it at each connect.)
 */
async function seedFor(c: Config, kube: Kube, o: Observation, master: Address): Promise<SentinelSeed> {
  const sentinelPods = c.sentinelSidecar ? o.pods : await listPods(kube, c.sentinelSelector);
  return {
    sentinels: sentinelPods
      .filter(isLive)
      .filter((p) => p.name !== c.podName)
      .map((p) => ({ pod: p.name, address: { host: p.ip, port: c.sentinelPort } })),
    replicas: o.pods
      .filter(hasIp)
      .map((p) => ({ host: p.ip, port: c.redisPort }))
      .filter((a) => {
        const r = o.roles[addr(a)];
        return r?.answered && r.role === 'slave' && addr(r.master) === addr(master);
      }),
  };
}

/** One look for a set's master (decideSentinelMaster): the master with what to pre-seed, or why there is none. */
export async function lookForMaster(
  sc: Config,
  kube: Kube,
  opts: { settle: boolean },
): Promise<{ monitor?: SentinelMonitor; reasons: string[]; livePods?: number }> {
  let o = await observe(sc, kube, false);
  const r = decideSentinelMaster(o);
  if (!r.master) return { reasons: r.reasons, livePods: o.pods.filter(isLive).length };
  if (opts.settle) {
    const settleBy = Date.now() + SEED_WAIT_MS;
    const undecided = (x: Observation) =>
      x.pods.filter((p) => isLive(p) && !x.roles[`${p.ip}:${sc.redisPort}`]?.answered);
    while (undecided(o).length && Date.now() < settleBy) {
      await sleep(250);
      o = await observe(sc, kube, false);
    }
  }
  return { monitor: { set: sc, master: r.master, seed: await seedFor(sc, kube, o, r.master) }, reasons: r.reasons };
}

const timingsOf = (s: Pick<Config, 'quorum' | 'downAfterMs' | 'failoverTimeoutMs' | 'parallelSyncs'>) =>
  `${s.quorum}/${s.downAfterMs}/${s.failoverTimeoutMs}/${s.parallelSyncs}`;

export class SentinelGroup extends PeriodicLoop {
  private readonly c: Config;
  private readonly kube: Kube;
  /** By master-set name: its settings, its StatefulSet (a watched set's), and what stops its watches. */
  private readonly monitored = new Map<string, { set: Config; statefulSet: string; stopWatches: () => void }>();
  private statefulSets?: Watched<k8s.V1StatefulSet>;
  /** The Sentinel pods' watch, shared by every set (started once, not by the first set that needs it). */
  private readonly stopSentinelWatch: () => void;
  /** What was last said about a set not (yet) monitored or not (yet) forgotten, to say each thing once. */
  private readonly said = new Map<string, string>();

  constructor(c: Config, kube: Kube, initial: SentinelMonitor[]) {
    super();
    this.c = c;
    this.kube = kube;
    this.stopSentinelWatch = c.sentinelSidecar
      ? () => {}
      : startWatches(kube, { ...c, podSelector: c.sentinelSelector, sentinelSidecar: true }, { record: false });
    for (const m of initial) this.register(m.set, m.statefulSet ?? '');
  }

  /** The settings of every set monitored now. */
  configs(): Config[] {
    return [...this.monitored.values()].map((m) => m.set);
  }

  configFor(masterSet: string): Config | undefined {
    return this.monitored.get(masterSet)?.set;
  }

  start(everyMs = SET_LOOP_MS) {
    if (!this.c.watchSelector) return;
    this.statefulSets = watchStatefulSets(this.kube, this.c.watchSelector);
    void this.statefulSets.start();
    super.start(everyMs);
  }

  stop() {
    super.stop();
    this.statefulSets?.stop();
    for (const m of this.monitored.values()) m.stopWatches();
    this.stopSentinelWatch();
  }

  /** A set's own watches: its pods and its record (the Sentinel pods' watch is the group's). */
  private register(set: Config, statefulSet: string) {
    const stopWatches = startWatches(this.kube, { ...set, sentinelSidecar: true }, { record: true });
    this.monitored.set(set.masterSet, { set, statefulSet, stopWatches });
  }

  /**
   * A password rotation switched the launcher's password (run-sentinel.ts): every set's settings take it too, as
   * their probes and relabels authenticate with them.
   */
  passwordsChanged() {
    for (const m of this.monitored.values()) {
      m.set.password = this.c.password;
      m.set.sentinelPassword = this.c.sentinelPassword;
    }
  }

  private tell(key: string, what: string, level: 'info' | 'warn' = 'info') {
    if (this.said.get(key) === what) return;
    this.said.set(key, what);
    log[level](what);
  }

  private sentinel(...args: string[]) {
    return withRedis(localSentinel(this.c), forSentinel(probeOptions(this.c)), (r) =>
      r.call(args[0], ...args.slice(1)),
    );
  }

  protected async cycleOnce(): Promise<void> {
    let found: { sets: WatchedSet[]; problems: string[] };
    try {
      found = await currentSets(this.c, this.kube, this.statefulSets);
    } catch (e) {
      this.tell('api', `cannot read the Redis StatefulSets (${apiFailure(e).message}); the sets stay as they are`);
      return;
    }
    this.said.delete('api');
    for (const p of found.problems) {
      if (this.said.has(`problem ${p}`)) continue;
      this.tell(`problem ${p}`, p, 'warn');
      void emitEvent(this.kube, { name: this.c.podName }, 'Warning', 'SetNotMonitored', p);
    }
    // A StatefulSet whose master-set name changed: the old name goes at once (its pods are the new name's), or
    // Sentinel would run two failovers for one group of pods.
    for (const [name, m] of this.monitored) {
      const now = found.sets.find((s) => m.statefulSet && s.statefulSet === m.statefulSet);
      if (now && now.masterSet !== name) await this.each(name, () => this.forget(name, `renamed to ${now.masterSet}`));
    }
    const { add, gone } = setChanges(new Set(this.monitored.keys()), found.sets);
    // One set's failure (a Sentinel that does not answer in time, an API error) does not hold the others back.
    for (const s of found.sets) await this.each(s.masterSet, () => this.retime(s));
    for (const s of add) await this.each(s.masterSet, () => this.add(setConfig(this.c, s), s.statefulSet));
    for (const m of gone) await this.each(m, () => this.forget(m));
  }

  private async each(masterSet: string, step: () => Promise<void>) {
    try {
      await step();
    } catch (e) {
      this.tell(`error ${masterSet}`, `set ${masterSet}: ${apiFailure(e).message}; trying again`, 'warn');
    }
  }

  /** A set's quorum or timing annotation changed: SENTINEL SET applies it (Sentinel rewrites its config). */
  private async retime(s: WatchedSet) {
    const cur = this.monitored.get(s.masterSet);
    if (!cur || timingsOf(cur.set) === timingsOf(s)) return;
    const next = setConfig(this.c, s);
    await this.sentinel('SENTINEL', 'SET', s.masterSet, ...sentinelTimings(next));
    cur.set = next;
    log.info(`${s.masterSet}: quorum/down-after/failover-timeout/parallel-syncs now ${timingsOf(s)}`);
  }

  private async add(sc: Config, statefulSet: string) {
    const look = await lookForMaster(sc, this.kube, { settle: false }).catch((e: unknown) => ({
      monitor: undefined,
      reasons: [`cannot observe it: ${apiFailure(e).message}`],
    }));
    if (!look.monitor) {
      this.tell(`add ${sc.masterSet}`, `set ${sc.masterSet} is not monitored yet: ${look.reasons.join('; ')}`);
      return;
    }
    // Idempotent: a MONITOR that went through while its SET did not (a timeout) is followed by the SET again.
    const [monitor, set] = sentinelMonitorCommands(this.c, look.monitor);
    await this.sentinel(...monitor).catch((e: Error) => {
      if (!/Duplicate master name/i.test(e.message)) throw e;
    });
    await this.sentinel(...set);
    this.register(sc, statefulSet);
    this.said.delete(`error ${sc.masterSet}`);
    this.said.delete(`add ${sc.masterSet}`);
    const what = `monitoring set ${sc.masterSet} at ${addr(look.monitor.master)}: ${look.reasons.join('; ')}`;
    log.info(what);
    void emitEvent(this.kube, { name: this.c.podName }, 'Normal', 'MonitoringSet', what);
  }

  /** A set whose StatefulSet is gone: forgotten (SENTINEL REMOVE) once no pod of it is left; a renamed one at once. */
  private async forget(masterSet: string, renamed?: string) {
    const cur = this.monitored.get(masterSet);
    if (!cur) return;
    const pods = renamed ? [] : await listPods(this.kube, cur.set.podSelector);
    if (pods.length) {
      this.tell(
        `forget ${masterSet}`,
        `set ${masterSet} has no StatefulSet any more; it is forgotten once its ${pods.length} pod(s) are gone`,
      );
      return;
    }
    await this.sentinel('SENTINEL', 'REMOVE', masterSet).catch((e: Error) => {
      if (!redisFailure(e).noSuchMaster) throw e;
    });
    cur.stopWatches();
    this.monitored.delete(masterSet);
    this.said.delete(`forget ${masterSet}`);
    const why = renamed ? `its StatefulSet's set was ${renamed}` : 'its StatefulSet and its pods are gone';
    const what = `forgot set ${masterSet}: ${why}`;
    log.info(what);
    void emitEvent(this.kube, { name: this.c.podName }, 'Normal', 'ForgotSet', what);
  }
}
