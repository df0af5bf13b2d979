// What the boot rules (rules/boot.ts) read off an observation: live peers, who holds data, which ordinals the
// StatefulSet keeps, whether an empty pod may become master, how a pod or address is described in a reason.
import {
  addr,
  isLive,
  sameAddress,
  podHasHost,
  type Address,
  type Decision,
  type LivePod,
  type Observation,
  type PodView,
  START_EMPTY_ANNOTATION,
} from '../../model.ts';

export const wait = (reasons: string[]): Decision => ({ role: 'wait', reasons });
export const names = (pods: { name: string }[]) => pods.map((p) => p.name).join(', ');

/** Pods that are running, have an address and are not being deleted, other than this one. */
export function livePeers(o: Observation): LivePod[] {
  return o.pods.filter(isLive).filter((p) => p.name !== o.self.name);
}

export const answers = (o: Observation, p: PodView) => Boolean(p.ip && o.roles[`${p.ip}:${o.redisPort}`]?.answered);
export const podAt = (o: Observation, a: Address) =>
  a.port === o.redisPort ? o.pods.find((p) => podHasHost(p, a.host)) : undefined;
export const describe = (o: Observation, a: Address) => {
  const pod = podAt(o, a);
  return pod ? `${pod.name} (${addr(a)})` : addr(a);
};

/** Peers whose data dirs hold data, live or not: reported by their launchers, or proven by a running Redis. */
export function peersWithData(o: Observation): PodView[] {
  return o.pods.filter((p) => p.name !== o.self.name && (p.data === 'present' || answers(o, p)));
}

/** Whether the StatefulSet keeps this ordinal: spec.ordinals.start .. start + spec.replicas - 1. */
export const keptOrdinal = (o: Observation, ordinal: number) =>
  o.setSize !== undefined && ordinal >= (o.setStart ?? 0) && ordinal < (o.setStart ?? 0) + o.setSize;

/** A pod of this pod's StatefulSet by ordinal. */
export const podName = (o: Observation, i: number) => `${o.self.name.replace(/-\d+$/, '')}-${i}`;

/** The ordinals the StatefulSet keeps that have no pod (none when its size is unknown or it has none). */
export function missingOrdinals(o: Observation): number[] {
  if (o.setSize === undefined) return [];
  const start = o.setStart ?? 0;
  const out: number[] = [];
  for (let i = start; i < start + o.setSize; i++) {
    const name = podName(o, i);
    if (name !== o.self.name && !o.pods.some((p) => p.name === name)) out.push(i);
  }
  return out;
}

/**
 * Why an empty pod must not become master although no peer is known to hold data: the peers that may hold it but
 * have not said so (ordinals the StatefulSet keeps with no pod yet, pods that have not reported), or a StatefulSet
 * that could not be read. Undefined when the way is clear (or the pod has data).
 */
export function emptyMasterBlocked(o: Observation): string | undefined {
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
export function startEmptyNote(o: Observation): string {
  if (o.self.hasData) return '';
  const self = o.pods.find((p) => p.name === o.self.name);
  const unblocked = emptyMasterBlocked({ ...o, pods: o.pods.map((p) => ({ ...p, startEmpty: false })) });
  return self?.startEmpty && unblocked ? `; the ${START_EMPTY_ANNOTATION} annotation lets it start empty` : '';
}

export const MB = (n: number) => `${Math.round(n / 1e6)} MB`;

/**
 * A master that restarted before the Sentinels noticed would answer LOADING for the whole load, and Sentinel counts
 * that as alive: writes stop until it has loaded. When its data files are large and live replicas replicate it,
 * it asks Sentinel to fail over to one of them first and rejoins as a replica (the reason why), else undefined.
 */
export function loadingHandover(o: Observation, selfAddr: Address): string | undefined {
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
export function soleLiveNamedMaster(o: Observation, opinions: { master: Address }[]): Address | undefined {
  const answer = (a: Address) => o.roles[addr(a)];
  const live = opinions.filter((v) => {
    const r = answer(v.master);
    return r?.answered && r.role === 'master';
  });
  const silent = opinions.filter((v) => !answer(v.master)?.answered);
  return live.length === 1 && live.length + silent.length === opinions.length ? live[0].master : undefined;
}
