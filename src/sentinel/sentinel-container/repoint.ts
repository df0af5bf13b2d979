// Re-pointing the Sentinels of a set whose master they name belongs to no pod (rules/orphaned-master.ts): the
// Sentinel supervisor's hygiene asks this first, every cycle. Its own file: one concern, with its own state (since
// when each set's master has looked orphaned).
import type { Config } from '../../config/types.ts';
import type { Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { currentPods, sentinelTargets } from '../../kube/pods.ts';
import { currentRecord } from '../../kube/record.ts';
import { log } from '../../runtime/log.ts';
import { addr, canonicalHost, isLive, podHasHost, type Address, type RoleAnswer } from '../../model.ts';
import { sentinelMonitorCommands } from '../../redis/conf.ts';
import { askRole, forSentinel, probeOptions, withRedis } from '../../redis/client.ts';
import { askSentinels } from '../observe.ts';
import { repointTarget } from '../rules/orphaned-master.ts';

export class SetRepointer {
  private readonly c: Config;
  private readonly kube: Kube;
  /** This pod's Sentinel. */
  private readonly local: Address;
  /** What this Sentinel knows of a set (its replicas' IPs). */
  private readonly state: (masterSet: string) => Promise<{ replicas: string[] }>;
  /** The set's reset Lease (taken, or given back): one Sentinel resets or re-points a set at a time. */
  private readonly lock: (sc: Config, acquire: boolean) => Promise<boolean>;
  /** Per set, the orphaned master this Sentinel names and since when. */
  private readonly orphanSince = new Map<string, { named: string; at: number }>();

  constructor(o: {
    c: Config;
    kube: Kube;
    local: Address;
    state: (masterSet: string) => Promise<{ replicas: string[] }>;
    lock: (sc: Config, acquire: boolean) => Promise<boolean>;
  }) {
    this.c = o.c;
    this.kube = o.kube;
    this.local = o.local;
    this.state = o.state;
    this.lock = o.lock;
  }

  /**
   * When this Sentinel names a master no pod of the set has and that Sentinel can never fail over from
   * (rules/orphaned-master.ts: a whole set restarted with new IPs under dedicated Sentinels), every Sentinel of the
   * set is pointed at the master of record, once it runs as master: SENTINEL REMOVE on every Sentinel, then MONITOR
   * and SET as for a set found at run time, so that no Sentinel left on the old address (at a higher config epoch)
   * turns the others back. Only when every Sentinel pod runs and none is failing over. True when it did.
   */
  async repoint(sc: Config): Promise<boolean> {
    const o = forSentinel(probeOptions(this.c));
    const reply = await withRedis(this.local, o, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sc.masterSet));
    if (!Array.isArray(reply)) return false;
    const named = { host: canonicalHost(String(reply[0])), port: Number(reply[1]) };
    const pods = await currentPods(this.kube, sc.podSelector);
    if (pods.some((p) => podHasHost(p, named.host))) {
      this.orphanSince.delete(sc.masterSet);
      return false;
    }
    const seen = this.orphanSince.get(sc.masterSet);
    const since = seen?.named === addr(named) ? seen.at : Date.now();
    this.orphanSince.set(sc.masterSet, { named: addr(named), at: since });
    // Nothing more is asked before down-after-milliseconds (a master pod recreated with a new IP is the common case,
    // and Sentinel fails it over meanwhile).
    if (Date.now() - since < sc.downAfterMs) return false;
    const st = await this.state(sc.masterSet);
    const roles: Record<string, RoleAnswer> = { [addr(named)]: await askRole(named, probeOptions(sc)) };
    for (const p of pods.filter(isLive)) {
      roles[`${p.ip}:${sc.redisPort}`] = await askRole({ host: p.ip, port: sc.redisPort }, probeOptions(sc));
    }
    const record = await currentRecord(this.kube, sc.masterRecord);
    const target = repointTarget({
      named,
      pods,
      redisPort: sc.redisPort,
      roles,
      forMs: Date.now() - since,
      downAfterMs: sc.downAfterMs,
      sentinelReplicas: st.replicas.map((host) => ({ host, port: sc.redisPort })),
      record: record?.pod,
      recordIp: record?.ip,
    });
    if (!target) return false;
    // Every Sentinel must answer and none be failing over: one left out on the old address would turn the others
    // back, and one leading a failover must not lose its set mid-way.
    const targets = await sentinelTargets(sc, this.kube);
    const { views } = await askSentinels(sc, targets);
    const silent = views.filter((v) => !v.reachable).length + (targets.known - targets.addresses.length);
    if (silent || views.some((v) => v.failoverInProgress)) {
      log.info(
        `${sc.masterSet}: ${target.reason}, but ${silent ? `${silent} Sentinel(s) do not answer` : 'a failover runs'}` +
          '; re-pointing later',
      );
      return false;
    }
    const addresses = targets.addresses;
    if (!(await this.lock(sc, true))) return false;
    try {
      // Another Sentinel may have re-pointed the set while this one waited for the lock.
      const again = await withRedis(this.local, o, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sc.masterSet));
      if (!Array.isArray(again) || canonicalHost(String(again[0])) !== named.host) return false;
      // Two phases: every Sentinel forgets the set first (a hello for a set it does not monitor is ignored), so
      // none still on the old address, at a higher config epoch than the new monitors' 0, can turn the others back.
      const removed: Address[] = [];
      for (const s of addresses) {
        await withRedis(s, o, (r) => r.call('SENTINEL', 'REMOVE', sc.masterSet)).then(
          () => removed.push(s),
          (e: Error) => log.warn(`SENTINEL REMOVE ${sc.masterSet} on ${addr(s)} failed: ${e.message}`),
        );
      }
      const done: string[] = [];
      for (const s of removed) {
        await withRedis(s, o, async (r) => {
          for (const [cmd, ...args] of sentinelMonitorCommands(this.c, { set: sc, master: target.master })) {
            await r.call(cmd, ...args);
          }
        }).then(
          () => done.push(addr(s)),
          (e: Error) => log.warn(`re-pointing Sentinel ${addr(s)} at ${addr(target.master)} failed: ${e.message}`),
        );
      }
      const what = `${sc.masterSet}: Sentinels ${done.join(', ')} now monitor ${target.pod} (${addr(target.master)})`;
      log.warn(`${what}: ${target.reason}`);
      this.orphanSince.delete(sc.masterSet);
      void emitEvent(this.kube, { name: this.c.podName }, 'Warning', 'SentinelRepointed', `${what}: ${target.reason}`);
      return true;
    } finally {
      await this.lock(sc, false);
    }
  }
}
