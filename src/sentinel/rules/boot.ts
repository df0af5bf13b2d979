// Why is this pod a master, a replica, or still waiting? Every rule is here, in the order it is applied.
// A pure function of the observation: no I/O, no clock. Each reason is a plain sentence.
//
//   a. A majority of the known Sentinels (and at least the quorum) names a master that answers ROLE master ->
//      replicate it (or be it). A failover in progress, or Sentinels that disagree with no majority -> wait. A
//      named master no pod of the set has, that does not answer and that has no replica Sentinel could promote,
//      for down-after-milliseconds, is no master (rules/orphaned-master.ts): on to b.
//   b. Else a live pod of the set answers ROLE master -> replicate it.
//   c. Else (cold start) the master of record, kept in a Lease, becomes master; the others replicate it.
//   d. Else (first boot) the lowest ordinal among the pods that have data (or among all, if none has data).
//   e. The Kubernetes API cannot be read: only (a) towards a replica. A majority of the Sentinels this pod's own
//      Sentinel knows (itself and the peers it has heard from) names another master that answers ROLE master ->
//      replicate it. Anything else waits for the API: no master decision without the Lease, no pods to judge by.
//   Never: an empty pod as master while another pod has data, or while a peer the StatefulSet keeps has not been
//   seen or has not said whether it has data (unless an operator annotated the pod start-empty); two masters (every
//   master decision is acted on only through a compare-and-swap on the Lease, see commands/run-redis.ts).
import { orphanedMaster } from './orphaned-master.ts';
import {
  addr,
  isLive,
  ordinalOf,
  sameAddress,
  podHasHost,
  sentinelsNeeded,
  tallySentinels,
  type Address,
  type Decision,
  type LivePod,
  type Observation,
  type PodView,
  type RoleAnswer,
  type SentinelView,
  START_EMPTY_ANNOTATION,
} from '../../model.ts';

const wait = (reasons: string[]): Decision => ({ role: 'wait', reasons });
const names = (pods: { name: string }[]) => pods.map((p) => p.name).join(', ');

/** Pods that are running, have an address and are not being deleted, other than this one. */
function livePeers(o: Observation): LivePod[] {
  return o.pods.filter(isLive).filter((p) => p.name !== o.self.name);
}

const answers = (o: Observation, p: PodView) => Boolean(p.ip && o.roles[`${p.ip}:${o.redisPort}`]?.answered);
const podAt = (o: Observation, a: Address) =>
  a.port === o.redisPort ? o.pods.find((p) => podHasHost(p, a.host)) : undefined;
const describe = (o: Observation, a: Address) => {
  const pod = podAt(o, a);
  return pod ? `${pod.name} (${addr(a)})` : addr(a);
};

/** Peers whose data dirs hold data, live or not: reported by their launchers, or proven by a running Redis. */
function peersWithData(o: Observation): PodView[] {
  return o.pods.filter((p) => p.name !== o.self.name && (p.data === 'present' || answers(o, p)));
}

/** Whether the StatefulSet keeps this ordinal: spec.ordinals.start .. start + spec.replicas - 1. */
const keptOrdinal = (o: Observation, ordinal: number) =>
  o.setSize !== undefined && ordinal >= (o.setStart ?? 0) && ordinal < (o.setStart ?? 0) + o.setSize;

/**
 * Why an empty pod must not become master although no peer is known to hold data: the peers that may hold it but
 * have not said so (ordinals the StatefulSet keeps with no pod yet, pods that have not reported), or a StatefulSet
 * that could not be read. Undefined when the way is clear (or the pod has data).
 */
/** A pod of this pod's StatefulSet by ordinal. */
const podName = (o: Observation, i: number) => `${o.self.name.replace(/-\d+$/, '')}-${i}`;

/** The ordinals the StatefulSet keeps that have no pod (none when its size is unknown or it has none). */
function missingOrdinals(o: Observation): number[] {
  if (o.setSize === undefined) return [];
  const start = o.setStart ?? 0;
  const out: number[] = [];
  for (let i = start; i < start + o.setSize; i++) {
    const name = podName(o, i);
    if (name !== o.self.name && !o.pods.some((p) => p.name === name)) out.push(i);
  }
  return out;
}

function emptyMasterBlocked(o: Observation): string | undefined {
  if (o.self.hasData) return undefined;
  if (o.setSizeUnknown) {
    return (
      `its data dir is empty and the StatefulSet cannot be read (${o.setSizeUnknown}), so it is unknown which ` +
      `peers may hold data`
    );
  }
  const silent = o.pods
    .filter((p) => p.name !== o.self.name && p.data === undefined && !answers(o, p))
    .map((p) => p.name);
  silent.push(...missingOrdinals(o).map((i) => podName(o, i)));
  if (!silent.length) return undefined;
  const self = o.pods.find((p) => p.name === o.self.name);
  if (self?.startEmpty) return undefined;
  return (
    `its data dir is empty and ${[...new Set(silent)].sort().join(', ')} have not been seen or reported whether ` +
    `they hold data; an empty master would wipe them (annotate this pod ${START_EMPTY_ANNOTATION}=true if they ` +
    `are gone for good)`
  );
}

/** The reason an empty master may go ahead thanks to the operator's annotation, if that is what let it. */
function startEmptyNote(o: Observation): string {
  if (o.self.hasData) return '';
  const self = o.pods.find((p) => p.name === o.self.name);
  const unblocked = emptyMasterBlocked({ ...o, pods: o.pods.map((p) => ({ ...p, startEmpty: false })) });
  return self?.startEmpty && unblocked ? `; the ${START_EMPTY_ANNOTATION} annotation lets it start empty` : '';
}

const MB = (n: number) => `${Math.round(n / 1e6)} MB`;

/**
 * A master that restarted before the Sentinels noticed would answer LOADING for the whole load, and Sentinel counts
 * that as alive: writes stop until it has loaded. When its data files are large and live replicas replicate it,
 * it asks Sentinel to fail over to one of them first and rejoins as a replica (the reason why), else undefined.
 */
function loadingHandover(o: Observation, selfAddr: Address): string | undefined {
  const bytes = o.self.dataBytes ?? 0;
  const limit = o.loadingHandoverBytes ?? 0;
  if (!limit || bytes <= limit) return undefined;
  const replicas = livePeers(o).filter((p) => {
    const r = o.roles[`${p.ip}:${o.redisPort}`];
    // While this master is down a replica's ROLE shows no offset (-1); Sentinel picks the most up to date one.
    return r?.answered && r.role === 'slave' && sameAddress(r.master, selfAddr);
  });
  if (!replicas.length) return undefined;
  return (
    `its data files (${MB(bytes)}) are larger than LOADING_HANDOVER_BYTES (${MB(limit)}) and ${names(replicas)} ` +
    `replicate it: it asks Sentinel to fail over to one of them instead of loading as master, then rejoins as ` +
    `a replica`
  );
}

/** Of the masters the Sentinels name, the only one that answers ROLE master when all the others do not answer. */
function soleLiveNamedMaster(o: Observation, opinions: { master: Address }[]): Address | undefined {
  const answer = (a: Address) => o.roles[addr(a)];
  const live = opinions.filter((v) => {
    const r = answer(v.master);
    return r?.answered && r.role === 'master';
  });
  const silent = opinions.filter((v) => !answer(v.master)?.answered);
  return live.length === 1 && live.length + silent.length === opinions.length ? live[0].master : undefined;
}

export function decide(o: Observation): Decision {
  const reasons: string[] = [];
  const selfAddr: Address = { host: o.self.ip, port: o.redisPort };
  const known = Math.max(o.knownSentinels, o.sentinels.length);
  const need = sentinelsNeeded(o.quorum, known);

  // a. Sentinels.
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

  // d. First boot: lowest ordinal, preferring pods with data (a holder that is not running yet is waited for).
  const peers = livePeers(o);
  const unknown = peers.filter((p) => p.data === undefined && !answers(o, p));
  type Candidate = { name: string; ordinal: number; data: boolean };
  const ordinal = (p: { ordinal: number | null }) => p.ordinal ?? Number.MAX_SAFE_INTEGER;
  const candidates: Candidate[] = [
    { name: o.self.name, ordinal: ordinal(o.self), data: o.self.hasData },
    ...peers
      .filter((p) => !unknown.includes(p) && !holders.includes(p))
      .map((p) => ({ name: p.name, ordinal: ordinal(p), data: false })),
    ...holders.map((p) => ({ name: p.name, ordinal: ordinal(p), data: true })),
  ];
  const withData = candidates.filter((c) => c.data);
  const pool = withData.length ? withData : candidates;
  const chosen = pool.reduce((a, b) => (b.ordinal < a.ordinal || (b.ordinal === a.ordinal && b.name < a.name) ? b : a));
  // With data somewhere the lowest ordinal holder wins, so every lower ordinal must have said whether it holds
  // data: live or not (a Pending pod that never reported), or not even created yet (an ordinal the StatefulSet keeps).
  const lower = (p: { ordinal: number | null }) => ordinal(p) < chosen.ordinal;
  const silentLower = o.pods.filter((p) => p.name !== o.self.name && !isLive(p) && p.data === undefined && lower(p));
  const missingLower = missingOrdinals(o).filter((i) => i < chosen.ordinal);
  const blocking = withData.length
    ? [...unknown.filter(lower), ...silentLower, ...missingLower.map((i) => ({ name: podName(o, i) }))]
    : unknown;
  if (blocking.length) {
    return wait([...reasons, `first boot: waiting for ${names(blocking)} to report whether they have data`]);
  }
  const basis = withData.length ? 'among the pods with data' : 'no pod has data; among all running pods';
  if (chosen.name === o.self.name) {
    const blocked = emptyMasterBlocked(o);
    if (blocked) return wait([...reasons, `first boot: this pod has the lowest ordinal, but ${blocked}`]);
    return {
      role: 'master',
      rule: 'first-boot',
      reasons: [...reasons, `first boot: this pod has the lowest ordinal (${basis})${startEmptyNote(o)}`],
    };
  }
  const holder = holders.find((p) => p.name === chosen.name);
  const state = holder && !isLive(holder) ? `, holds data and is not running yet` : '';
  return wait([
    ...reasons,
    `first boot: ${chosen.name} has the lowest ordinal (${basis})${state}; waiting for it to become master`,
  ]);
}

/** The one sentence a cycle ends with, e.g. for the log. */
export function summary(d: Decision): string {
  const replica = (m: Address, pod?: string) => `replica of ${pod ? `${pod} (${addr(m)})` : addr(m)}`;
  const head = d.role === 'replica' ? replica(d.master, d.masterPod) : d.role;
  return `${head}: ${d.reasons[d.reasons.length - 1]}`;
}

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

/** What a pod can see with the Kubernetes API down: its own Sentinel and the peers that Sentinel knows. */
export type ApiLessObservation = {
  apiError: string;
  self: Address;
  quorum: number;
  /** Own Sentinel first; empty when it does not answer (or is not a sidecar). */
  sentinels: SentinelView[];
  /** Own Sentinel plus the peers it knows. */
  known: number;
  roles: Record<string, RoleAnswer>;
};

/** Rule e: see the top of this file. */
export function decideWithoutApi(o: ApiLessObservation): Decision {
  const api = `the Kubernetes API cannot be read (${o.apiError})`;
  if (!o.sentinels.length || !o.sentinels[0].reachable) {
    return wait([`${api}, and this pod's own Sentinel does not answer; waiting for the API`]);
  }
  const need = sentinelsNeeded(o.quorum, o.known);
  const { failing, agreed } = tallySentinels(o.sentinels, need);
  if (failing.length) return wait([`${api}; a failover is in progress; waiting`]);
  if (!agreed) {
    return wait([`${api}, and no ${need} of the ${o.known} Sentinels its own Sentinel knows agree on a master`]);
  }
  const m = agreed.master;
  const tally = `${agreed.count}/${o.known}`;
  if (sameAddress(m, o.self)) {
    return wait([`${api}; sentinels ${tally} name this pod, but a master is decided only with the master of record`]);
  }
  const role = o.roles[addr(m)];
  if (!role?.answered || role.role !== 'master') {
    return wait([`${api}; sentinels ${tally} name ${addr(m)}, which does not answer ROLE master; waiting`]);
  }
  return {
    role: 'replica',
    rule: 'sentinels',
    master: m,
    reasons: [
      api,
      `sentinels ${tally} (known to this pod's own Sentinel) name ${addr(m)} as master; it answers ROLE master`,
    ],
  };
}
