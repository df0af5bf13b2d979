// `launcher status` in cluster mode: pure functions of a snapshot (gathered read-only by commands/status.ts): the
// verdict, "healthy" or each thing that is wrong in one sentence, and the table. Each pod's row is what its own
// Redis says of itself (CLUSTER NODES' myself line); the cluster-wide facts (failed nodes, uncovered slots, nodes
// no pod runs) come from every answer together.
import { followProblems } from '../../engines.ts';
import type { PodView } from '../../model.ts';
import { tableLines, verdictLines } from '../../text-table.ts';
import { CLUSTER_SLOTS, inCluster, slotCount, slotText, type ClusterNode, type NodeState } from './nodes.ts';
import type { NodeIdRecord } from './rejoin.ts';
import { doubleClaims, ghostAdvice, notInCluster, scaledAway } from './status-advice.ts';

export type ClusterStatusSnapshot = {
  pods: PodView[];
  /** What each live pod's Redis says (undefined: no answer), by pod name. */
  states: Record<string, NodeState | undefined>;
  replicasPerMaster: number;
  /** Each live replica's master_link_status (INFO replication), by pod name; missing: not asked or no answer. */
  links?: Record<string, string | undefined>;
  /** When the Lease says the cluster was formed; undefined when it does not (yet), null when unreadable. */
  formedAt?: string | null;
  /** The node IDs each pod ran, as the bootstrap Lease records them (rules/rejoin.ts). */
  nodeIds?: NodeIdRecord;
  /** The pods' StatefulSet and the ordinals it keeps (a pod outside them left by a scale-down). */
  statefulSet?: { name: string; start: number; replicas: number; scaledVolumesDeleted?: boolean };
  /** The engine each live pod's Redis runs (`valkey 8.0.1`), by pod name; missing: not asked or no answer. */
  engines?: Record<string, string | undefined>;
};

export type ClusterPodRow = {
  pod: string;
  node?: string;
  zone?: string;
  ip?: string;
  label?: string;
  ready: boolean;
  /** The first 8 characters of its node ID. */
  id?: string;
  role: string;
  engine?: string;
  slots?: string;
  /** A replica: the pod of the master it follows (or that master's node ID when no pod runs it). */
  follows?: string;
};

export type ClusterStatus = {
  verdict: 'healthy' | 'degraded' | 'unknown';
  problems: string[];
  rows: ClusterPodRow[];
  /** Masters serving slots, by pod name. */
  masters: string[];
};

const short = (id: string) => id.slice(0, 8);

export function clusterStatus(s: ClusterStatusSnapshot): ClusterStatus {
  const problems: string[] = [];
  const live = s.pods.filter((p) => p.ip && p.phase === 'Running' && !p.terminating);
  const selfOf = (name: string) => s.states[name]?.nodes.find((n) => n.flags.includes('myself'));
  const podOfId = new Map<string, string>();
  for (const p of live) {
    const me = selfOf(p.name);
    if (me) podOfId.set(me.id, p.name);
  }
  for (const p of s.pods) if (p.clusterNodeId && !podOfId.has(p.clusterNodeId)) podOfId.set(p.clusterNodeId, p.name);
  // A pod that no longer exists is known by the record of the node it ran.
  for (const [pod, ids] of Object.entries(s.nodeIds ?? {})) {
    if (ids[0] && !podOfId.has(ids[0])) podOfId.set(ids[0], pod);
  }
  const members = live.filter((p) => {
    const st = s.states[p.name];
    return st && inCluster(st);
  });
  const rows: ClusterPodRow[] = s.pods.map((p) => {
    const st = s.states[p.name];
    const me = selfOf(p.name);
    const base = {
      pod: p.name,
      node: p.node,
      ...(p.zone ? { zone: p.zone } : {}),
      ip: p.podIp ?? p.ip,
      label: p.roleLabel,
      ready: p.ready,
      ...(s.engines?.[p.name] ? { engine: s.engines[p.name] } : {}),
    };
    if (!st || !me) return { ...base, role: p.terminating ? 'terminating' : live.includes(p) ? 'unreachable' : '-' };
    if (!inCluster(st)) return { ...base, id: short(me.id), role: 'not in the cluster' };
    const master = me.flags.includes('master');
    return {
      ...base,
      id: short(me.id),
      role: master ? 'master' : 'replica',
      ...(master ? { slots: slotText(me) || 'none' } : {}),
      ...(me.masterId ? { follows: podOfId.get(me.masterId) ?? short(me.masterId) } : {}),
    };
  });
  const masters = rows.filter((r) => r.role === 'master' && r.slots !== 'none').map((r) => r.pod);
  if (!members.length) {
    const why =
      s.formedAt === undefined
        ? 'the cluster is not formed yet (each pod says why: launcher role)'
        : 'no pod of the cluster answers';
    return { verdict: live.some((p) => s.states[p.name]) ? 'degraded' : 'unknown', problems: [why], rows, masters };
  }
  for (const p of live) {
    const st = s.states[p.name];
    if (!st) problems.push(`${p.name}'s Redis does not answer`);
    else if (!inCluster(st)) problems.push(notInCluster(p.name, s, members));
    else if (st.info.cluster_state !== 'ok') problems.push(`${p.name} says cluster_state:${st.info.cluster_state}`);
  }
  // The cluster-wide view: every node any member knows, by ID, with the flags its members see.
  const known = new Map<string, ClusterNode[]>();
  for (const p of members) {
    for (const n of s.states[p.name]?.nodes ?? []) known.set(n.id, [...(known.get(n.id) ?? []), n]);
  }
  const assigned = new Set<number>();
  for (const [id, views] of known) {
    const n = views.find((v) => v.flags.includes('myself')) ?? views[0];
    for (const [a, b] of n.slots) for (let x = a; x <= b; x++) assigned.add(x);
    const pod = podOfId.get(id);
    const failedBy = views.filter((v) => v.flags.includes('fail')).length;
    const suspectedBy = views.filter((v) => v.flags.includes('fail?')).length;
    if (!failedBy && suspectedBy) {
      // One node's suspicion (PFAIL), not yet the cluster's verdict: it comes and goes around every restart.
      problems.push(`${pod ?? short(id)} does not answer ${suspectedBy} of ${members.length} members (suspected)`);
    } else if (failedBy && !s.pods.some((p) => p.name === pod)) {
      problems.push(scaledAway(n, pod, s.statefulSet) ?? ghostAdvice(n, known, podOfId));
    } else if (failedBy) {
      problems.push(`${pod ?? short(id)} is marked failed by ${failedBy} of ${members.length} members`);
    }
  }
  const follows = rows.flatMap((r) =>
    r.role === 'replica' && r.follows ? [[r.pod, r.follows] as [string, string]] : [],
  );
  problems.push(...followProblems(s.engines ?? {}, follows));
  if (assigned.size < CLUSTER_SLOTS) problems.push(`${CLUSTER_SLOTS - assigned.size} slots are served by no node`);
  problems.push(...doubleClaims(members.map((p) => [p.name, selfOf(p.name)] as const)));
  // Slots a move left open (MIGRATING on its source, IMPORTING on its target): only a node's own line shows them.
  for (const p of members) {
    const byPeer = new Map<string, number[]>();
    for (const o of selfOf(p.name)?.open ?? []) {
      const peer = podOfId.get(o.peer) ?? short(o.peer);
      const key = `${o.state === 'migrating' ? 'migrating to' : 'importing from'} ${peer}`;
      const slots = byPeer.get(key) ?? [];
      slots.push(o.slot);
      byPeer.set(key, slots);
    }
    for (const [what, slots] of byPeer) {
      const list = slots.length > 5 ? `${slots.slice(0, 5).join(', ')} and ${slots.length - 5} more` : slots.join(', ');
      problems.push(
        `${p.name} has ${slots.length > 1 ? 'slots' : 'slot'} ${list} open, ${what}: a slot move is running or ` +
          'stopped half-way (launcher cluster rebalance closes it)',
      );
    }
  }
  const spread = new Set(live.map((p) => p.node).filter(Boolean)).size > 1;
  const zones = new Set(live.map((p) => p.zone).filter(Boolean)).size > 1;
  for (const m of masters) {
    const me = selfOf(m);
    if (!me) continue;
    const followers = rows.filter((r) => r.role === 'replica' && r.follows === m);
    if (s.replicasPerMaster > 0 && !followers.length) {
      problems.push(`master ${m} (${slotCount(me)} slots) has no replica: losing it loses its slots`);
    }
    const pod = s.pods.find((p) => p.name === m);
    const beside = followers.filter((r) => pod?.node && r.node === pod.node);
    // Only where it could be otherwise: on a one-node cluster (kind, minikube) every replica is beside its master.
    if (spread && beside.length && followers.length === beside.length) {
      problems.push(`every replica of ${m} runs on its node ${pod?.node}: losing the node loses the shard`);
    }
    const sameZone = followers.filter((r) => pod?.zone && r.zone === pod.zone);
    if (zones && !beside.length && sameZone.length && followers.length === sameZone.length) {
      problems.push(`every replica of ${m} runs in its zone ${pod?.zone}: losing the zone loses the shard`);
    }
  }
  for (const r of rows) {
    if (r.role === 'master' && r.slots === 'none') {
      problems.push(`${r.pod} is a master serving no slot (give it slots: launcher cluster rebalance)`);
    }
    const link = s.links?.[r.pod];
    if (r.role === 'replica' && link !== undefined && link !== 'up') {
      problems.push(`${r.pod} is a replica whose link to its master is ${link}`);
    }
  }
  for (const r of rows) {
    const want = r.role === 'master' ? 'master' : r.role === 'replica' ? 'slave' : undefined;
    if (want && r.label !== want) problems.push(`${r.pod} is a ${r.role} but labelled ${r.label ?? 'nothing'}`);
  }
  return { verdict: problems.length ? 'degraded' : 'healthy', problems, rows, masters };
}

/** The table, then the verdict in one sentence (and every further problem). */
export function renderClusterStatus(st: ClusterStatus, formedAt: string | null | undefined): string {
  // A ZONE column only where the pods carry their zone.
  const zoned = st.rows.some((r) => r.zone);
  const head = [
    'POD',
    'NODE',
    ...(zoned ? ['ZONE'] : []),
    'IP',
    'LABEL',
    'READY',
    'NODE ID',
    'ROLE',
    'ENGINE',
    'SLOTS',
    'FOLLOWS',
  ];
  const cells = st.rows.map((r) => [
    r.pod,
    r.node ?? '-',
    ...(zoned ? [r.zone ?? '-'] : []),
    r.ip ?? '-',
    r.label ?? '-',
    r.ready ? 'yes' : 'no',
    r.id ?? '-',
    r.role,
    r.engine ?? '-',
    r.slots ?? '-',
    r.follows ?? '-',
  ]);
  const out = tableLines(head, cells);
  out.push('', `formed: ${formedAt === null ? 'unreadable' : (formedAt ?? 'not recorded')}`);
  out.push(...verdictLines(st, `${st.masters.length} masters, 16384 slots served`));
  return out.join('\n');
}
