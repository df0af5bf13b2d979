// A replica's replica-priority, Sentinel's only say in which replica a failover promotes (0: never). Pure: the
// supervisor (redis-container/supervisor.ts) reads the current value and sets what this returns.
import { sameAddress, type Address, type ListedReplica } from '../../model.ts';

export type PriorityInput = {
  /** Why this replica must not be promoted (its engine: engines.ts candidacyProblem), if so. */
  held?: string;
  /** Whether its first full sync is done (an empty replica of a master with data is no candidate till then). */
  synced: boolean;
  /** REDIS_REPLICA_PRIORITY. */
  setting: number;
  /** What Redis has now (CONFIG GET). */
  now: string;
  /** What the supervisor last set or rendered. */
  lastSet: string;
};

/**
 * Whether a SENTINEL FAILOVER refused by every Sentinel (`codes`: each refusal's error code, '' for one that names
 * another master) is worth asking again shortly: at least one answered NOGOODSLAVE (no replica it may promote, as of
 * its last INFO, up to SENTINEL_INFO_PERIOD_MS old) and the others did not answer at all (this pod's own Sentinel
 * stops with it).
 */
export const askAgainForCandidate = (codes: string[]): boolean =>
  codes.includes('NOGOODSLAVE') && codes.every((c) => c === 'NOGOODSLAVE' || c === 'UNANSWERED');

/**
 * The value to set, with why, or undefined to leave it. 0 is enforced whenever the replica must not be promoted,
 * whoever raised it (a switchover restoring what it saved before the hold). It is raised back to the setting only
 * over a 0 the supervisor set itself: a different value was set by someone else (`launcher switchover` holds the
 * other replicas at 0 while it runs, and restores them), and is theirs to restore.
 */
export function priorityToSet(o: PriorityInput): { set: string; why: string } | undefined {
  const want = o.synced && !o.held ? String(o.setting) : '0';
  if (o.now === want) return undefined;
  if (want === '0') return { set: '0', why: o.held ?? 'its first full sync is not done' };
  if (o.now !== o.lastSet) return undefined;
  return { set: want, why: 'a failover candidate' };
}

/**
 * How many Sentinels may promote this replica (found by any of its addresses): they list it with a replica-priority
 * above 0, read from an INFO no older than `sinceMs` (it was raised then), and do not see it down or disconnected.
 * `lists`: each Sentinel's SENTINEL REPLICAS, undefined for one that did not answer.
 */
export function sentinelsListingCandidate(
  lists: (ListedReplica[] | undefined)[],
  self: Address[],
  sinceMs: number,
): number {
  const bad = ['s_down', 'o_down', 'disconnected'];
  const fresh = (r: ListedReplica) => r.infoAgeMs > 0 && r.infoAgeMs < sinceMs;
  const candidate = (r: ListedReplica) => r.priority > 0 && fresh(r) && !r.flags.some((f) => bad.includes(f));
  return lists.filter((l) => l?.some((r) => candidate(r) && self.some((a) => sameAddress(a, r)))).length;
}
