// Boot rule a (rules/boot.ts): what the Sentinels say. A majority of the known Sentinels (and at least the quorum)
// naming a master that answers ROLE master decides; a failover in progress, or Sentinels that disagree with no
// majority, wait; a named master that is orphaned (rules/orphaned-master.ts) is set aside with its reason.
import { orphanedMaster } from './orphaned-master.ts';
import {
  describe,
  emptyMasterBlocked,
  loadingHandover,
  names,
  peersWithData,
  podAt,
  soleLiveNamedMaster,
  startEmptyNote,
  wait,
} from './boot-facts.ts';
import {
  addr,
  sameAddress,
  sentinelsNeeded,
  tallySentinels,
  type Address,
  type Decision,
  type Observation,
} from '../../model.ts';

/** Rule a: a decision, or undefined with the Sentinels' part of the reasons added. */
export function bySentinels(o: Observation, reasons: string[]): Decision | undefined {
  const selfAddr: Address = { host: o.self.ip, port: o.redisPort };
  const known = Math.max(o.knownSentinels, o.sentinels.length);
  const need = sentinelsNeeded(o.quorum, known);
  const { failing, opinions, agreed } = tallySentinels(o.sentinels, need);
  if (failing.length) {
    return wait([
      `sentinel ${failing.map((s) => addr(s.sentinel)).join(', ')} reports a failover in progress; waiting for ` +
        `it to finish`,
    ]);
  }
  if (agreed) {
    const m = agreed.master;
    const tally = `${agreed.count}/${known}`;
    if (sameAddress(m, selfAddr)) {
      const said = `sentinels ${tally} name this pod (${addr(m)}) as master`;
      if (o.self.hasData) {
        const handover = loadingHandover(o, selfAddr);
        if (handover) return { role: 'handover', rule: 'sentinels', reasons: [`${said}, but ${handover}`] };
        return {
          role: 'master',
          rule: 'sentinels',
          reasons: [`${said}; its data dir has data, so it comes back as master`],
        };
      }
      const holders = peersWithData(o);
      if (holders.length) {
        return wait([
          `${said}, but its data dir is empty while ${names(holders)} hold data; it must not come back as an ` +
            `empty master that would wipe them, so it waits for Sentinel to fail over`,
        ]);
      }
      const blocked = emptyMasterBlocked(o);
      if (blocked) return wait([`${said}, but ${blocked}`]);
      return {
        role: 'master',
        rule: 'sentinels',
        reasons: [`${said}; its data dir is empty, but no other pod has data either${startEmptyNote(o)}`],
      };
    }
    const role = o.roles[addr(m)];
    if (role?.answered && role.role === 'master') {
      return {
        role: 'replica',
        rule: 'sentinels',
        master: m,
        masterPod: podAt(o, m)?.name,
        reasons: [`sentinels ${tally} name ${describe(o, m)} as master; it answers ROLE master`],
      };
    }
    const state = !role?.answered ? 'it does not answer' : `it answers ROLE ${role.role}`;
    const orphan = orphanedMaster({
      named: m,
      pods: o.pods,
      redisPort: o.redisPort,
      roles: o.roles,
      forMs: o.waitedMs ?? 0,
      downAfterMs: o.downAfterMs ?? Infinity,
      record: o.record?.pod,
      recordIp: o.record?.ip,
      sentinelReplicas: o.sentinelReplicas,
    });
    if (!orphan) {
      return wait([
        `sentinels ${tally} name ${describe(o, m)} as master, but ${state}; waiting for Sentinel to fail over or ` +
          `the master to return`,
      ]);
    }
    // The Sentinels can never fail over from it: the master of record decides, and the Sentinels are re-pointed.
    reasons.push(`sentinels ${tally} name ${addr(m)} as master, but ${orphan}`);
  }
  const [opinion] = opinions;
  const reachable = o.sentinels.filter((s) => s.reachable).length;
  if (agreed) {
    // an orphaned master, said above
  } else if (opinions.length > 1) {
    const views = opinions.map((v) => `${v.count} name ${describe(o, v.master)}`).join(', ');
    const only = soleLiveNamedMaster(o, opinions);
    if (!only) {
      return wait([`sentinels disagree about the master (${views}, ${need} needed); waiting for them to converge`]);
    }
    // A Sentinel left naming an address nobody answers at (the old master's pod was recreated with a new IP) must
    // not deadlock the set: replicate the one named master that answers (never fall through to the record).
    return {
      role: 'replica',
      rule: 'sentinels',
      master: only,
      masterPod: podAt(o, only)?.name,
      reasons: [
        `sentinels disagree about the master (${views}, ${need} needed), but only ${describe(o, only)} answers ` +
          `ROLE master; the others name addresses nobody answers at`,
      ],
    };
  } else if (opinion) {
    reasons.push(
      `only ${opinion.count}/${known} sentinels name ${describe(o, opinion.master)} as master (${need} needed: a ` +
        `majority of the known sentinels and at least the quorum of ${o.quorum})`,
    );
  } else if (reachable) reasons.push(`${reachable} sentinel(s) answer but none monitors this master set`);
  else reasons.push(`no sentinel answers (${known} known)`);

  return undefined;
}
