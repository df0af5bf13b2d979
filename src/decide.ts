// Why is this pod a master, a replica, or still waiting? Every rule is here, in the order it is applied.
// A pure function of the observation: no I/O, no clock. Each reason is a plain sentence.
//
//   a. A quorum of reachable Sentinels names a master that answers ROLE master -> replicate it (or be it).
//      A failover in progress or Sentinels that disagree -> wait and look again; never guess.
//   b. Else a live pod of the set answers ROLE master -> replicate it.
//   c. Else (cold start) the master of record, kept in a Lease, becomes master; the others replicate it.
//   d. Else (first boot) the lowest ordinal among the pods that have data (or among all, if none has data).
//   Never: an empty pod as master while another pod has data; two masters.
import {
  addr,
  ordinalOf,
  sameAddress,
  tallySentinels,
  type Address,
  type Decision,
  type Observation,
  type LivePod,
  type PodView,
  isLive,
} from './model.ts';

const wait = (reasons: string[]): Decision => ({ role: 'wait', reasons });

/** Pods that are running, have an address and are not being deleted, other than this one. */
function livePeers(o: Observation): LivePod[] {
  return o.pods.filter(isLive).filter((p) => p.name !== o.self.name);
}

const podAt = (o: Observation, a: Address) =>
  a.port === o.redisPort ? o.pods.find((p) => p.ip === a.host) : undefined;
const describe = (o: Observation, a: Address) => {
  const pod = podAt(o, a);
  return pod ? `${pod.name} (${addr(a)})` : addr(a);
};

/** Peers whose data dirs hold data: reported by their launchers, or proven by a running replica/master. */
function peersWithData(o: Observation): PodView[] {
  return livePeers(o).filter((p) => p.data === 'present' || o.roles[`${p.ip}:${o.redisPort}`]?.answered);
}

export function decide(o: Observation): Decision {
  const reasons: string[] = [];
  const selfAddr: Address = { host: o.self.ip, port: o.redisPort };

  // a. Sentinels.
  const { failing, opinions } = tallySentinels(o.sentinels);
  if (failing.length) {
    return wait([`sentinel ${failing.map(addr).join(', ')} reports a failover in progress; waiting for it to finish`]);
  }
  if (opinions.length > 1) {
    const views = opinions.map((v) => `${v.count} name ${describe(o, v.master)}`).join(', ');
    return wait([`sentinels disagree about the master (${views}); waiting for them to converge`]);
  }
  const [opinion] = opinions;
  const tally = `${opinion?.count ?? 0}/${o.sentinels.length}`;
  if (opinion && opinion.count >= o.quorum) {
    const m = opinion.master;
    if (sameAddress(m, selfAddr)) {
      const said = `sentinels ${tally} name this pod (${addr(m)}) as master`;
      if (o.self.hasData) {
        return {
          role: 'master',
          rule: 'sentinels',
          reasons: [`${said}; its data dir has data, so it comes back as master`],
        };
      }
      const holders = peersWithData(o);
      if (holders.length) {
        return wait([
          `${said}, but its data dir is empty while ${holders.map((p) => p.name).join(', ')} hold data; it must not ` +
            `come back as an empty master that would wipe them, so it waits for Sentinel to fail over`,
        ]);
      }
      return {
        role: 'master',
        rule: 'sentinels',
        reasons: [`${said}; its data dir is empty, but no other pod has data either`],
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
    return wait([
      `sentinels ${tally} name ${describe(o, m)} as master, but ${state}; waiting for Sentinel to fail over or the ` +
        `master to return`,
    ]);
  }
  const reachable = o.sentinels.filter((s) => s.reachable).length;
  if (opinion) {
    reasons.push(`only ${tally} sentinels name ${describe(o, opinion.master)} as master (quorum is ${o.quorum})`);
  } else if (reachable) reasons.push(`${reachable} sentinel(s) answer but none monitors this master set`);
  else reasons.push(`no sentinel answers (${o.sentinels.length} known)`);

  // b. A live pod that is master.
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
    const list = masters.map((p) => p.name).join(', ');
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

  // c. Master of record.
  const holders = peersWithData(o);
  const anyoneElseHasData = holders.length > 0;
  const record = o.record;
  if (record) {
    const rec = o.pods.find((p) => p.name === record.pod);
    const recOrdinal = ordinalOf(record.pod);
    if (!rec && o.setSize !== undefined && recOrdinal !== null && recOrdinal < o.setSize) {
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
      if (o.self.hasData || !anyoneElseHasData) {
        return {
          role: 'master',
          rule: 'master-of-record',
          reasons: [
            ...reasons,
            `this pod is the master of record${o.self.hasData ? ' and has its data' : ' and no other pod has data'}`,
          ],
        };
      }
      reasons.push(
        `this pod is the master of record, but its data dir is empty while ${holders.map((p) => p.name).join(', ')} ` +
          `hold data`,
      );
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

  // d. First boot: lowest ordinal, preferring pods with data.
  const peers = livePeers(o);
  const unknown = peers.filter((p) => p.data === undefined && !o.roles[`${p.ip}:${o.redisPort}`]?.answered);
  type Candidate = { name: string; ordinal: number; data: boolean };
  const candidates: Candidate[] = [
    { name: o.self.name, ordinal: o.self.ordinal ?? Number.MAX_SAFE_INTEGER, data: o.self.hasData },
    ...peers
      .filter((p) => !unknown.includes(p))
      .map((p) => ({ name: p.name, ordinal: p.ordinal ?? Number.MAX_SAFE_INTEGER, data: holders.includes(p) })),
  ];
  const withData = candidates.filter((c) => c.data);
  const pool = withData.length ? withData : candidates;
  const chosen = pool.reduce((a, b) => (b.ordinal < a.ordinal || (b.ordinal === a.ordinal && b.name < a.name) ? b : a));
  const blocking = withData.length
    ? unknown.filter((p) => (p.ordinal ?? Number.MAX_SAFE_INTEGER) < chosen.ordinal)
    : unknown;
  if (blocking.length) {
    return wait([
      ...reasons,
      `first boot: waiting for ${blocking.map((p) => p.name).join(', ')} to report whether they have data`,
    ]);
  }
  const basis = withData.length ? 'among the pods with data' : 'no pod has data; among all running pods';
  if (chosen.name === o.self.name) {
    return {
      role: 'master',
      rule: 'first-boot',
      reasons: [...reasons, `first boot: this pod has the lowest ordinal (${basis})`],
    };
  }
  return wait([
    ...reasons,
    `first boot: ${chosen.name} has the lowest ordinal (${basis}); waiting for it to become master`,
  ]);
}

/** The one sentence a cycle ends with, e.g. for the log. */
export function summary(d: Decision): string {
  const head =
    d.role === 'master'
      ? 'master'
      : d.role === 'replica'
        ? `replica of ${d.masterPod ? `${d.masterPod} (${addr(d.master)})` : addr(d.master)}`
        : 'wait';
  return `${head}: ${d.reasons[d.reasons.length - 1]}`;
}

/** What a Sentinel should monitor: the master the Sentinels agree on, else a live pod answering ROLE master. */
export function decideSentinelMaster(o: Observation): { master?: Address; reasons: string[] } {
  const { failing, opinions } = tallySentinels(o.sentinels);
  if (failing.length) return { reasons: ['a failover is in progress; waiting for it to finish'] };
  if (opinions.length > 1) {
    return {
      reasons: [`sentinels disagree about the master (${opinions.map((v) => addr(v.master)).join(', ')}); waiting`],
    };
  }
  const [only] = opinions;
  if (only && only.count >= Math.min(o.quorum, o.sentinels.length)) {
    const r = o.roles[addr(only.master)];
    if (r?.answered && r.role === 'master') {
      return {
        master: only.master,
        reasons: [
          `sentinels ${only.count}/${o.sentinels.length} name ${describe(o, only.master)} as master; it answers ` +
            `ROLE master`,
        ],
      };
    }
  }
  const live = o.pods.filter(isLive).filter((p) => {
    const r = o.roles[`${p.ip}:${o.redisPort}`];
    return r?.answered && r.role === 'master';
  });
  if (live.length === 1) {
    return {
      master: { host: live[0].ip, port: o.redisPort },
      reasons: [`${live[0].name} (${live[0].ip}:${o.redisPort}) answers ROLE master`],
    };
  }
  if (live.length > 1) {
    return { reasons: [`several pods answer ROLE master (${live.map((p) => p.name).join(', ')}); waiting`] };
  }
  return { reasons: ['no pod answers ROLE master yet; waiting for a master to exist'] };
}
