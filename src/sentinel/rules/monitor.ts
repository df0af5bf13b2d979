// Which master a Sentinel starts monitoring (the Sentinel container, sentinel-container/watched-sets.ts).
import { describe, names, soleLiveNamedMaster } from './boot-facts.ts';
import {
  addr,
  isLive,
  sentinelsNeeded,
  tallySentinels,
  type Address,
  type LivePod,
  type Observation,
} from '../../model.ts';

/**
 * What a Sentinel should monitor: the master a majority of the Sentinels agree on, else the one live pod answering
 * ROLE master; of several, the master of record (the Lease is written by compare-and-swap), else the labelled one,
 * so that the Sentinels start and the supervisors can heal the others.
 */
export function decideSentinelMaster(o: Observation): { master?: Address; reasons: string[] } {
  const known = Math.max(o.knownSentinels, o.sentinels.length);
  const { failing, opinions, agreed } = tallySentinels(o.sentinels, sentinelsNeeded(o.quorum, known));
  if (failing.length) return { reasons: ['a failover is in progress; waiting for it to finish'] };
  if (agreed) {
    const r = o.roles[addr(agreed.master)];
    if (r?.answered && r.role === 'master') {
      return {
        master: agreed.master,
        reasons: [
          `sentinels ${agreed.count}/${known} name ${describe(o, agreed.master)} as master; it answers ROLE master`,
        ],
      };
    }
  } else if (opinions.length > 1) {
    const only = soleLiveNamedMaster(o, opinions);
    const list = opinions.map((v) => addr(v.master)).join(', ');
    if (!only) return { reasons: [`sentinels disagree about the master (${list}); waiting`] };
    return {
      master: only,
      reasons: [`sentinels disagree about the master (${list}), but only ${describe(o, only)} answers ROLE master`],
    };
  }
  const live = o.pods.filter(isLive).filter((p) => {
    const r = o.roles[`${p.ip}:${o.redisPort}`];
    return r?.answered && r.role === 'master';
  });
  const at = (p: LivePod) => ({ host: p.ip, port: o.redisPort });
  if (live.length === 1) {
    return { master: at(live[0]), reasons: [`${live[0].name} (${live[0].ip}:${o.redisPort}) answers ROLE master`] };
  }
  if (live.length > 1) {
    const recorded = live.find((p) => p.name === o.record?.pod);
    const labelled = live.filter((p) => p.roleLabel === 'master');
    const pick = recorded ?? (labelled.length === 1 ? labelled[0] : undefined);
    if (pick) {
      const why = recorded ? 'the master of record' : 'the one labelled master';
      return {
        master: at(pick),
        reasons: [`several pods answer ROLE master (${names(live)}); ${pick.name} is ${why}, so it is monitored`],
      };
    }
    return { reasons: [`several pods answer ROLE master (${names(live)}); waiting`] };
  }
  return { reasons: ['no pod answers ROLE master yet; waiting for a master to exist'] };
}
