// A cluster node's probes: alive while Redis answers PING (LOADING counts); ready when the cluster is ok and this
// node serves (a master with slots, or a replica whose link is up).
import { redisFailure } from '../redis/errors.ts';
import type { Config } from '../config/types.ts';
import { localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { parseInfo } from '../redis/replies.ts';
import { nodeState } from './observe.ts';
import { slotCount } from './rules/nodes.ts';

/** Alive while Redis answers PING (LOADING counts). */
export async function clusterLiveness(c: Config): Promise<{ ok: boolean; reason: string }> {
  try {
    const pong = await withRedis(localRedis(c), probeOptions(c), (r) => r.ping());
    return { ok: pong === 'PONG', reason: `Redis answers PING with ${pong}` };
  } catch (e) {
    const m = (e as Error).message;
    return redisFailure(e).code === 'LOADING'
      ? { ok: true, reason: 'Redis is loading its data' }
      : { ok: false, reason: m };
  }
}

/** Ready when the cluster is ok and this node serves: a master with slots, or a replica whose link is up. */
export async function clusterReadiness(c: Config): Promise<{ ok: boolean; reason: string }> {
  const s = await nodeState(c, localRedis(c));
  if (!s) return { ok: false, reason: 'Redis does not answer' };
  if (s.info.cluster_state !== 'ok') return { ok: false, reason: `cluster_state:${s.info.cluster_state}` };
  const me = s.nodes.find((n) => n.flags.includes('myself'));
  if (me?.flags.includes('master')) {
    const n = slotCount(me);
    return n ? { ok: true, reason: `a master serving ${n} slots` } : { ok: false, reason: 'a master without slots' };
  }
  const repl = await withRedis(localRedis(c), probeOptions(c), (r) => r.call('INFO', 'replication'))
    .then((i) => parseInfo(String(i)))
    .catch(() => ({}) as Record<string, string>);
  return repl.master_link_status === 'up'
    ? { ok: true, reason: 'a replica, its link to the master up' }
    : { ok: false, reason: `a replica whose link is ${repl.master_link_status ?? 'unknown'}` };
}
