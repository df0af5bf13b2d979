// Why is this pod a master, a replica, or still waiting? Every rule is here, in the order it is applied.
// A pure function of the observation: no I/O, no clock. Each reason is a plain sentence.
//
// Rule a: rules/boot-sentinels.ts; b and c: rules/boot-record.ts; d: rules/boot-first.ts; e: boot-without-api.ts.
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
import { bySentinels } from './boot-sentinels.ts';
import { byLiveMaster, byRecord } from './boot-record.ts';
import { byFirstBoot } from './boot-first.ts';
import { addr, type Address, type Decision, type Observation } from '../../model.ts';

/** Rules a to d, in order: the first that decides, with the reasons of those before it that did not. */
export function decide(o: Observation): Decision {
  const reasons: string[] = [];
  return bySentinels(o, reasons) ?? byLiveMaster(o, reasons) ?? byRecord(o, reasons) ?? byFirstBoot(o, reasons);
}

/** The one sentence a cycle ends with, e.g. for the log. */
export function summary(d: Decision): string {
  const replica = (m: Address, pod?: string) => `replica of ${pod ? `${pod} (${addr(m)})` : addr(m)}`;
  const head = d.role === 'replica' ? replica(d.master, d.masterPod) : d.role;
  return `${head}: ${d.reasons[d.reasons.length - 1]}`;
}
