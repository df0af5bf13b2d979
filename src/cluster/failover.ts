// The one way a cluster master's slots are handed over on purpose (SIGTERM, a scale-in, `launcher switchover`):
// CLUSTER FAILOVER on its replica, then waiting until that replica says it is master.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/types.ts';
import { addr, type Address } from '../model.ts';
import { probeOptions, withRedis } from '../redis/client.ts';
import { nodeState } from './observe.ts';

/** Redis's manual failover timeout (CLUSTER_MF_TIMEOUT, fixed in Redis 7.0). */
const MANUAL_FAILOVER_MS = 5000;

/**
 * The one way a cluster master's slots are handed over on purpose (SIGTERM, `launcher switchover`): CLUSTER
 * FAILOVER on its replica `to` (not FORCE: the master pauses its writers until the replica has everything it
 * acknowledged, then the replica takes over), then waiting until `to` says it is master. Redis gives a manual
 * failover 5 s (CLUSTER_MF_TIMEOUT), then the replica gives up and the master takes writes again: no longer than
 * that, nor past `deadline`.
 */
export async function failOverTo(
  c: Config,
  to: Address,
  deadline: number,
): Promise<{ ok: true } | { ok: false; asked: boolean; why: string }> {
  const t0 = Date.now();
  const left = () => Math.max(1, deadline - Date.now());
  const o = () => ({ ...probeOptions(c), timeoutMs: Math.min(c.probeTimeoutMs, left()) });
  try {
    await withRedis(to, o(), (r) => r.call('CLUSTER', 'FAILOVER'));
  } catch (e) {
    return { ok: false, asked: false, why: `CLUSTER FAILOVER on ${addr(to)} failed: ${(e as Error).message}` };
  }
  const until = Math.min(deadline, Date.now() + MANUAL_FAILOVER_MS + 500);
  while (Date.now() < until) {
    const now = await nodeState(c, to);
    if (now?.nodes.find((n) => n.flags.includes('myself'))?.flags.includes('master')) return { ok: true };
    await sleep(Math.min(50, left()));
  }
  return { ok: false, asked: true, why: `${addr(to)} did not take over within ${Date.now() - t0} ms` };
}
