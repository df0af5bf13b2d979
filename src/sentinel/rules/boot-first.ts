// Boot rule d (rules/boot.ts), the first boot: the lowest ordinal among the pods that have data (or among all, if
// none has), once every pod that could win has said whether it holds data.
import {
  answers,
  emptyMasterBlocked,
  livePeers,
  missingOrdinals,
  names,
  peersWithData,
  podName,
  startEmptyNote,
  wait,
} from './boot-facts.ts';
import { isLive, type Decision, type Observation } from '../../model.ts';

/** Rule d: always a decision (master, or wait for the pod that will be). */
export function byFirstBoot(o: Observation, reasons: string[]): Decision {
  const holders = peersWithData(o);
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
