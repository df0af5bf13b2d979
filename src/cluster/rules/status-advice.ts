// `launcher status` in cluster mode: the advice for what is wrong, one sentence each (rules/status.ts gathers them):
// a pod outside the cluster, slots a scale-down took, a failed node no pod runs, slots two masters claim.
import type { PodView } from '../../model.ts';
import { slotCount, slotText, type ClusterNode } from './nodes.ts';
import type { ClusterStatusSnapshot } from './status.ts';

const short = (id: string) => id.slice(0, 8);

/**
 * A pod not in the cluster: back without its volume (the record names a node the members still know), it rejoins
 * by itself; else it joins only when asked.
 */
export function notInCluster(
  pod: string,
  s: Pick<ClusterStatusSnapshot, 'nodeIds' | 'states'>,
  members: PodView[],
): string {
  const old = s.nodeIds?.[pod]?.[0];
  const known = old && members.some((p) => s.states[p.name]?.nodes.some((n) => n.id === old));
  if (!old || !known) return `${pod} is not in the cluster (to add it: launcher cluster add-shard)`;
  return (
    `${pod} is not in the cluster: it is back without its volume (it ran node ${short(old)}) and rejoins by itself ` +
    'as a replica (launcher role says what it waits for)'
  );
}

/**
 * A failed master serving slots whose pod a scale-down removed (its StatefulSet no longer keeps the ordinal) and
 * did not drain: its volume keeps the slots' data. Undefined for any other node.
 */
export function scaledAway(n: ClusterNode, pod: string | undefined, sts: ClusterStatusSnapshot['statefulSet']) {
  const ordinal = Number(/-(\d+)$/.exec(pod ?? '')?.[1] ?? NaN);
  if (!pod || !sts || !slotCount(n) || (ordinal >= sts.start && ordinal < sts.start + sts.replicas)) return undefined;
  const back = `kubectl scale statefulset ${sts.name} --replicas=${ordinal - sts.start + 1}`;
  if (sts.scaledVolumesDeleted) {
    return (
      `slots ${slotText(n)} belong to ${pod}, removed by a scale-down that deleted its volume (the StatefulSet's ` +
      `persistentVolumeClaimRetentionPolicy whenScaled: Delete): their data is lost unless the volume is restored; ` +
      `scale back (${back}) if it still exists, else give the slots to another master (redis-cli --cluster fix)`
    );
  }
  return (
    `slots ${slotText(n)} belong to ${pod}, removed by a scale-down: scale back (${back}: its volume was kept), ` +
    `then launcher cluster remove-shard ${pod}`
  );
}

/**
 * What to do about a failed node no pod runs. CLUSTER FORGET only loses nothing when it serves no slot and no
 * replica follows it; a master that still serves slots has its data on a volume (forgotten, its slots would be served
 * by no node, and `redis-cli --cluster fix` would re-create them empty).
 */
export function ghostAdvice(n: ClusterNode, known: Map<string, ClusterNode[]>, podOfId: Map<string, string>): string {
  const what = `node ${short(n.id)} (${n.host}:${n.port}) is failed`;
  const followers = [...known.values()]
    .map((views) => views.find((v) => v.flags.includes('myself')) ?? views[0])
    .filter((r) => r.masterId === n.id && !r.flags.includes('fail'))
    .map((r) => podOfId.get(r.id) ?? short(r.id));
  const count = slotCount(n);
  if (!count && !followers.length) return `${what} and no pod runs it: CLUSTER FORGET it on every node`;
  if (!count) {
    const follow = followers.length > 1 ? 'follow' : 'follows';
    return (
      `${what}, serves no slot and no pod runs it, but ${followers.join(', ')} ${follow} it: CLUSTER REPLICATE ` +
      'each to a live master first, then CLUSTER FORGET it on every node'
    );
  }
  const serves = `serves ${count} ${count > 1 ? 'slots' : 'slot'} (${slotText(n)})`;
  const back =
    `${what}, ${serves} and no pod runs it: bring its pod or its volume back (never CLUSTER FORGET it: its ` +
    'slots would be served by no node, then re-created empty)';
  if (!followers.length) return back;
  const which =
    followers.length > 1
      ? `its replicas ${followers.join(', ')} have not taken over: CLUSTER FAILOVER FORCE on the most up to date ` +
        '(INFO replication: slave_repl_offset)'
      : `its replica ${followers[0]} has not taken over: CLUSTER FAILOVER FORCE on ${followers[0]}`;
  return (
    `${back}; ${which} makes it serve them, without the writes it had not received (FORCE needs a majority of ` +
    'the masters to vote; without one, TAKEOVER)'
  );
}

/**
 * Slots two nodes each say they serve (their own lines): two masters for one shard, as after a partition until
 * the config epochs settle it. One sentence per pair, with the count and the lowest and highest slot.
 */
export function doubleClaims(selves: readonly (readonly [string, ClusterNode | undefined])[]): string[] {
  const owner = new Map<number, string>();
  const pairs = new Map<string, number[]>();
  for (const [pod, me] of selves) {
    if (!me?.flags.includes('master')) continue;
    for (const [a, b] of me.slots) {
      for (let x = a; x <= b; x++) {
        const other = owner.get(x);
        if (other === undefined) owner.set(x, pod);
        else {
          const both = `${other} and ${pod}`;
          const slots = pairs.get(both) ?? [];
          slots.push(x);
          pairs.set(both, slots);
        }
      }
    }
  }
  return [...pairs].map(([both, slots]) => {
    const last = slots[slots.length - 1];
    const which = slots.length > 1 ? `${slots.length} slots between ${slots[0]} and ${last} are` : `slot ${last} is`;
    return `${which} claimed by both ${both}, each saying it serves them`;
  });
}
