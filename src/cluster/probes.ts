// A cluster node's probes: alive while Redis answers PING (LOADING counts); ready when this node does its part
// (a master with slots, or a replica whose link is up) in a cluster that is ok, or down only by another shard's loss.
import { redisFailure } from '../redis/errors.ts';
import type { Config } from '../config/types.ts';
import { localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { parseInfo } from '../redis/replies.ts';
import { nodeState } from './observe.ts';
import { clusterReady } from './rules/readiness.ts';

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

/** Ready when this node does its part (rules/readiness.ts says when a cluster that is down still counts). */
export async function clusterReadiness(c: Config): Promise<{ ok: boolean; reason: string }> {
  const s = await nodeState(c, localRedis(c));
  const me = s?.nodes.find((n) => n.flags.includes('myself'));
  const link = me?.flags.includes('slave')
    ? await withRedis(localRedis(c), probeOptions(c), (r) => r.call('INFO', 'replication'))
        .then((i) => parseInfo(String(i)).master_link_status)
        .catch(() => undefined)
    : undefined;
  return clusterReady(s, link);
}
