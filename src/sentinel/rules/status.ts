// `launcher status`: the whole set at a glance. Pure functions of a snapshot (gathered read-only by
// commands/status.ts): the verdict, "healthy" or each thing that is wrong in one sentence, and the table.
import {
  addr,
  podHasHost,
  sameAddress,
  sentinelsNeeded,
  tallySentinels,
  type Address,
  type PodView,
  type RoleAnswer,
} from '../../model.ts';
import { candidacyProblems, followProblems } from '../../engines.ts';
import { tableLines, verdictLines } from '../../text-table.ts';

export type SentinelStatus = {
  pod: string;
  reachable: boolean;
  /** The address it gives out for the master set; null when it does not monitor it. */
  master?: Address | null;
  failoverInProgress?: boolean;
  tilt?: boolean;
};

export type StatusSnapshot = {
  pods: PodView[];
  /** ROLE of each live pod's Redis, by pod name. */
  roles: Record<string, RoleAnswer>;
  sentinels: SentinelStatus[];
  /** The pod the master of record names ('' none), or undefined when the Lease could not be read. */
  record?: string;
  redisPort: number;
  quorum: number;
  /** A replica further behind than this many bytes is reported. */
  lagBytes: number;
  /** Maintenance mode: since when the set is paused. */
  paused?: string;
  /** The engine each live pod's Redis runs (`valkey 8.0.1`), by pod name; missing: not asked or no answer. */
  engines?: Record<string, string | undefined>;
};

export type PodRow = {
  pod: string;
  node?: string;
  ip?: string;
  label?: string;
  ready: boolean;
  role: string;
  engine?: string;
  offset?: number;
  lag?: number;
  link?: string;
  sentinelNames?: string;
};

export type Status = {
  verdict: 'healthy' | 'degraded' | 'unknown';
  problems: string[];
  master?: string;
  sentinelMaster?: string;
  rows: PodRow[];
};

const podAt = (pods: PodView[], a: Address | null | undefined, port: number) =>
  a ? pods.find((p) => podHasHost(p, a.host) && a.port === port) : undefined;

export function setStatus(s: StatusSnapshot): Status {
  const problems: string[] = [];
  if (s.paused) problems.push(`the set is paused (maintenance mode) since ${s.paused}: the supervisors take no action`);
  const live = s.pods.filter((p) => p.ip && !p.terminating);
  const answered = live.filter((p) => s.roles[p.name]?.answered);
  const masters = answered.filter((p) => {
    const r = s.roles[p.name];
    return r.answered && r.role === 'master';
  });
  const master = masters.length === 1 ? masters[0] : undefined;
  const masterRole = master ? s.roles[master.name] : undefined;
  const masterOffset = masterRole?.answered && masterRole.role === 'master' ? masterRole.offset : undefined;

  // Sentinels: who answers, TILT, a failover, and what the majority names.
  const known = s.sentinels.length;
  const need = sentinelsNeeded(s.quorum, known);
  for (const v of s.sentinels) {
    if (!v.reachable) problems.push(`the Sentinel of ${v.pod} does not answer`);
    else if (v.tilt) problems.push(`the Sentinel of ${v.pod} is in TILT mode`);
    else if (v.master === null) problems.push(`the Sentinel of ${v.pod} does not monitor the master set`);
  }
  // The majority, counted where every path counts it (model.tallySentinels).
  const { failing, opinions, agreed } = tallySentinels(s.sentinels, need);
  if (failing.length) problems.push('a failover is in progress');
  if (opinions.length > 1) {
    problems.push(`the Sentinels disagree: ${opinions.map((v) => `${v.count} name ${addr(v.master)}`).join(', ')}`);
  }
  const named = agreed?.master;
  if (known && !named) problems.push(`no master is named by a majority of the ${known} Sentinels (${need} needed)`);

  // Masters by ROLE, against the Sentinels and the labels.
  if (!answered.length) {
    return {
      verdict: 'unknown',
      problems: ['no pod of the set answers (are the pod IPs reachable from here?)'],
      rows: [],
    };
  }
  if (masters.length === 0) problems.push('no pod answers ROLE master');
  if (masters.length > 1) {
    problems.push(`${masters.length} pods answer ROLE master: ${masters.map((p) => p.name).join(', ')}`);
  }
  if (named) {
    const namedPod = podAt(live, named, s.redisPort);
    if (!namedPod) problems.push(`the Sentinels name ${addr(named)}, which no live pod has (a dead master)`);
    else if (master && namedPod.name !== master.name) {
      problems.push(`the Sentinels name ${namedPod.name}, but ${master.name} answers ROLE master`);
    }
  }
  for (const p of live) {
    const r = s.roles[p.name];
    if (!r?.answered) {
      problems.push(`Redis on ${p.name} does not answer`);
      continue;
    }
    const want = r.role === 'master' ? 'master' : r.role === 'slave' ? 'slave' : undefined;
    if (want && p.roleLabel !== want) {
      problems.push(`${p.name} is labelled ${p.roleLabel ?? '(none)'} but answers ROLE ${r.role}`);
    }
    if (r.role === 'slave') {
      if (r.linkState !== 'connected') {
        problems.push(`replica ${p.name}: its link to ${addr(r.master)} is ${r.linkState}`);
      } else if (master && !sameAddress(r.master, { host: master.ip ?? '', port: s.redisPort })) {
        problems.push(`replica ${p.name} follows ${addr(r.master)}, not the master ${master.name}`);
      } else if (masterOffset !== undefined && masterOffset - r.offset > s.lagBytes) {
        problems.push(`replica ${p.name} lags by ${masterOffset - r.offset} bytes`);
      }
    }
  }
  for (const p of s.pods.filter((x) => !x.ip || x.terminating)) {
    problems.push(`${p.name} is ${p.terminating ? 'terminating' : `${p.phase} without an IP`}`);
  }
  if (master && s.record !== undefined && s.record !== master.name) {
    problems.push(`the master of record names ${s.record || 'no pod'}, not the master ${master.name}`);
  }

  const rows: PodRow[] = s.pods.map((p) => {
    const r = s.roles[p.name];
    const names = s.sentinels.find((v) => v.pod === p.name);
    return {
      pod: p.name,
      node: p.node,
      ip: p.ip,
      label: p.roleLabel,
      ready: p.ready,
      role: r?.answered ? r.role : p.ip ? 'no answer' : '-',
      ...(s.engines?.[p.name] ? { engine: s.engines[p.name] } : {}),
      offset: r?.answered && r.role !== 'sentinel' ? r.offset : undefined,
      lag: r?.answered && r.role === 'slave' && masterOffset !== undefined ? masterOffset - r.offset : undefined,
      link: r?.answered && r.role === 'slave' ? r.linkState : undefined,
      sentinelNames: names ? (names.reachable ? (names.master ? addr(names.master) : 'none') : 'no answer') : undefined,
    };
  });
  const follows = rows.flatMap((r) => (r.role === 'slave' && master ? [[r.pod, master.name] as [string, string]] : []));
  problems.push(...followProblems(s.engines ?? {}, follows));
  problems.push(...candidacyProblems(rows.filter((r) => r.role === 'slave')));
  return {
    verdict: problems.length ? 'degraded' : 'healthy',
    problems,
    master: master?.name,
    sentinelMaster: named ? (podAt(live, named, s.redisPort)?.name ?? addr(named)) : undefined,
    rows,
  };
}

/** The table, then the master of record, then the verdict in one sentence (and every further problem). */
export function renderStatus(st: Status, record: string | undefined): string {
  const head = ['POD', 'NODE', 'IP', 'LABEL', 'READY', 'ROLE', 'ENGINE', 'OFFSET', 'LAG', 'LINK', 'SENTINEL NAMES'];
  const cells = st.rows.map((r) => [
    r.pod,
    r.node ?? '-',
    r.ip ?? '-',
    r.label ?? '-',
    r.ready ? 'yes' : 'no',
    r.role,
    r.engine ?? '-',
    r.offset === undefined ? '-' : String(r.offset),
    r.lag === undefined ? '-' : String(r.lag),
    r.link ?? '-',
    r.sentinelNames ?? '-',
  ]);
  const out = tableLines(head, cells);
  out.push('', `master of record: ${record === undefined ? 'unreadable' : record || 'none'}`);
  out.push(...verdictLines(st, `master ${st.master}`));
  return out.join('\n');
}
