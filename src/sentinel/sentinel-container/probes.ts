// The Sentinel container's probes: alive while Sentinel answers PING; ready once it monitors its sets with a quorum
// of peers.
import type { Config } from '../../config/types.ts';
import { forSentinel, localSentinel, pairs, probeOptions, withRedis } from '../../redis/client.ts';

/**
 * A Sentinel's readiness over the master sets it monitors (CKQUORUM of each): ready while at least one set has
 * its quorum of Sentinels reachable, the others named in the reason. Decision: not every set, so that one set
 * just added (its Sentinels not yet acquainted) or in trouble does not take this Sentinel out of the Service for
 * every other set. One that monitors no set yet is not ready.
 */
export async function sentinelGroupReadiness(c: Config, sets: string[]): Promise<{ ok: boolean; reason: string }> {
  if (!sets.length) return { ok: false, reason: 'this Sentinel monitors no master set yet' };
  const each = await Promise.all(sets.map((masterSet) => sentinelReadiness({ ...c, masterSet })));
  if (sets.length === 1) return each[0];
  const bad = sets.filter((_, i) => !each[i].ok);
  const reason = bad.length
    ? `${sets.length - bad.length} of ${sets.length} sets have their quorum; not: ` +
      bad.map((m) => `${m} (${each[sets.indexOf(m)].reason})`).join('; ')
    : `all ${sets.length} sets have their quorum`;
  return { ok: bad.length < sets.length, reason };
}

/** The master sets the local Sentinel monitors (SENTINEL MASTERS): what an exec probe judges by. */
export async function monitoredSets(c: Config): Promise<string[]> {
  const r = await withRedis(localSentinel(c), forSentinel(probeOptions(c)), (x) => x.call('SENTINEL', 'MASTERS'));
  return (r as unknown[]).map((flat) => pairs(flat).name ?? '').filter(Boolean);
}

/** Liveness of Sentinel: it answers PING within the deadline. */
export async function sentinelLiveness(c: Config): Promise<{ ok: boolean; reason: string }> {
  try {
    const pong = await withRedis(localSentinel(c), forSentinel(probeOptions(c)), (r) => r.ping());
    return { ok: pong === 'PONG', reason: `Sentinel PING answered ${pong}` };
  } catch (e) {
    return { ok: false, reason: `Sentinel does not answer PING: ${(e as Error).message}` };
  }
}

/** Ready when this Sentinel monitors the set and a quorum of Sentinels is reachable (SENTINEL CKQUORUM). */
export async function sentinelReadiness(c: Config): Promise<{ ok: boolean; reason: string }> {
  try {
    const r = await withRedis(localSentinel(c), forSentinel(probeOptions(c)), (x) =>
      x.call('SENTINEL', 'CKQUORUM', c.masterSet),
    );
    return { ok: true, reason: String(r) };
  } catch (e) {
    return { ok: false, reason: String((e as Error).message) };
  }
}
