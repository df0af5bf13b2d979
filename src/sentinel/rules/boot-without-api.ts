// Boot rule e (rules/boot.ts): the Kubernetes API cannot be read. Only a replica decision is taken: a majority of
// the Sentinels this pod's own Sentinel knows (itself and the peers it has heard from) names another master that
// answers ROLE master. Anything else waits for the API: no master decision without the Lease, no pods to judge by.
import { wait } from './boot-facts.ts';
import {
  addr,
  sameAddress,
  sentinelsNeeded,
  tallySentinels,
  type Address,
  type Decision,
  type RoleAnswer,
  type SentinelView,
} from '../../model.ts';

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

/** Rule e. */
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
