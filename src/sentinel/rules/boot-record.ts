// Boot rules b and c (rules/boot.ts): a live pod that answers ROLE master is replicated; else (a cold start) the
// master of record, kept in a Lease, becomes master and the others replicate it, unless it lost its data while
// others have theirs. A record pod that is being recreated or has not reported is waited for.
import {
  emptyMasterBlocked,
  keptOrdinal,
  livePeers,
  names,
  peersWithData,
  startEmptyNote,
  wait,
} from './boot-facts.ts';
import { ordinalOf, type Decision, type Observation } from '../../model.ts';

/** Rule b: a decision, or undefined with its reason added. */
export function byLiveMaster(o: Observation, reasons: string[]): Decision | undefined {
  const masters = livePeers(o).filter((p) => {
    const r = o.roles[`${p.ip}:${o.redisPort}`];
    return r?.answered && r.role === 'master';
  });
  if (masters.length === 1) {
    const p = masters[0];
    return {
      role: 'replica',
      rule: 'live-master',
      master: { host: p.ip, port: o.redisPort },
      masterPod: p.name,
      reasons: [...reasons, `live pod ${p.name} (${p.ip}:${o.redisPort}) answers ROLE master`],
    };
  }
  if (masters.length > 1) {
    const labelled = masters.filter((p) => p.roleLabel === 'master');
    const list = names(masters);
    if (labelled.length === 1) {
      const p = labelled[0];
      return {
        role: 'replica',
        rule: 'live-master',
        master: { host: p.ip, port: o.redisPort },
        masterPod: p.name,
        reasons: [...reasons, `several pods answer ROLE master (${list}); ${p.name} is the one labelled master`],
      };
    }
    return wait([
      ...reasons,
      `several pods answer ROLE master (${list}) and the labels do not single one out; waiting for Sentinel to ` +
        `settle it`,
    ]);
  }
  reasons.push('no live pod answers ROLE master');

  return undefined;
}

/** Rule c: a decision, or undefined with its reason added. */
export function byRecord(o: Observation, reasons: string[]): Decision | undefined {
  // c. Master of record. A Lease without a holder is no record.
  const holders = peersWithData(o);
  const record = o.record?.pod ? o.record : null;
  if (record) {
    const rec = o.pods.find((p) => p.name === record.pod);
    const recOrdinal = ordinalOf(record.pod);
    if (!rec && o.setSizeUnknown) {
      return wait([
        ...reasons,
        `the master of record, ${record.pod}, has no pod and the StatefulSet cannot be read (${o.setSizeUnknown}); ` +
          `it may be being recreated, so this pod waits`,
      ]);
    } else if (!rec && o.setSize !== undefined && recOrdinal !== null && keptOrdinal(o, recOrdinal)) {
      return wait([
        ...reasons,
        `the master of record, ${record.pod}, is being recreated (the StatefulSet keeps ${o.setSize} replicas); ` +
          `waiting for it`,
      ]);
    } else if (!rec) {
      reasons.push(
        `the master of record, ${record.pod}, no longer ` +
          `exists${o.setSize !== undefined ? ` (the StatefulSet has ${o.setSize} replicas)` : ''}`,
      );
    } else if (rec.name === o.self.name) {
      if (holders.length && !o.self.hasData) {
        reasons.push(`this pod is the master of record, but its data dir is empty while ${names(holders)} hold data`);
      } else {
        const blocked = emptyMasterBlocked(o);
        if (blocked) return wait([...reasons, `this pod is the master of record, but ${blocked}`]);
        return {
          role: 'master',
          rule: 'master-of-record',
          reasons: [
            ...reasons,
            `this pod is the master of record${o.self.hasData ? ' and has its data' : ' and no other pod has data'}` +
              startEmptyNote(o),
          ],
        };
      }
    } else if (!rec.ip || rec.phase !== 'Running' || rec.terminating) {
      return wait([
        ...reasons,
        `the master of record, ${rec.name}, is not running yet ` +
          `(${rec.terminating ? 'terminating' : rec.phase}${rec.ip ? '' : ', no IP'}); waiting for it`,
      ]);
    } else if (rec.data === undefined) {
      return wait([
        ...reasons,
        `the master of record, ${rec.name}, has not reported whether it has data; waiting for it`,
      ]);
    } else if (rec.data === 'present' || (!o.self.hasData && !holders.some((p) => p.name !== rec.name))) {
      return {
        role: 'replica',
        rule: 'master-of-record',
        master: { host: rec.ip, port: o.redisPort },
        masterPod: rec.name,
        reasons: [
          ...reasons,
          `the master of record is ${rec.name} (${rec.ip}:${o.redisPort}); it starts as master and this pod ` +
            `replicates it`,
        ],
      };
    } else {
      reasons.push(`the master of record, ${rec.name}, lost its data while other pods have data`);
    }
  } else {
    reasons.push('there is no master of record');
  }

  return undefined;
}
