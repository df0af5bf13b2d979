// SIGTERM on the Redis container: a master with an in-sync replica pauses writes, lets its replicas receive what it
// acknowledged, asks Sentinel to fail over (sentinel/failover.ts) and waits until a majority of the Sentinels names
// another master, all within HANDOVER_TIMEOUT_MS; then Redis stops. Paused writes are never resumed on this master
// (redis/write-pause.ts): they fail once it is gone, unacknowledged.
import { pauseWrites, stopReplicationPings } from '../../redis/write-pause.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/types.ts';
import type { Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { sentinelTargets } from '../../kube/pods.ts';
import { pausedSince } from '../../kube/record.ts';
import { addr, sameAddress, sentinelsNeeded, type Address } from '../../model.ts';
import { askRole, askSentinel, localRedis, probeOptions, withRedis, type ProbeOptions } from '../../redis/client.ts';
import { recordHandover, type HandoverResult } from '../../runtime/last-handover.ts';
import { log } from '../../runtime/log.ts';
import type { RedisMetrics } from '../../runtime/metrics.ts';
import { askSentinelsToFailOver, selfAddresses, replicasBehind } from '../failover.ts';
import { sentinelMaster } from '../rules/reconcile.ts';

/** Whether one of the replicas has a replica-priority above 0 (a failover candidate by its own setting). */
async function someCandidate(replicas: Address[], o: ProbeOptions): Promise<boolean> {
  const priorities = await Promise.all(
    replicas.map((r) =>
      withRedis(r, o, (x) => x.call('CONFIG', 'GET', 'replica-priority')).then(
        (v) => Number((v as string[])[1]) > 0,
        () => false,
      ),
    ),
  );
  return priorities.includes(true);
}

export async function handOver(
  c: Config,
  kube: Kube,
  metrics: RedisMetrics,
  loops: { haltFence: () => Promise<void>; stopLoop: () => void },
): Promise<void> {
  const localAddr = localRedis(c);
  const self = { host: c.podHost, port: c.redisPort };
  const handoverResult = (result: HandoverResult, why: string) => recordHandover(metrics, c.dataDir, result, why);
  const t0 = Date.now();
  const deadline = t0 + c.handoverTimeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  const opts = () => ({ ...probeOptions(c), timeoutMs: Math.min(c.probeTimeoutMs, left()) });
  // No fence cycle pauses after this; the fence's pause, if any, lapses by itself (redis/write-pause.ts).
  await loops.haltFence();
  const local = await askRole(localAddr, opts());
  if (!local.answered || local.role !== 'master') return;
  loops.stopLoop();
  const paused = await pausedSince(kube, c.masterRecord);
  if (paused) {
    log.warn(`shutting down a master while the set is paused (since ${paused}): no handover`);
    handoverResult('skipped', `the set is paused (since ${paused})`);
    return;
  }
  if (local.replicas.length === 0) {
    log.warn('shutting down a master without an in-sync replica: no handover possible');
    handoverResult('skipped', 'no replica');
    return;
  }
  const own = { host: c.podHost, port: c.sentinelPort };
  const targets = await sentinelTargets(c, kube).catch(() => ({ addresses: [], known: 1 }));
  const others = targets.addresses.filter((s) => !sameAddress(s, own));
  const failed = (why: string, result: 'failed' | 'timeout') => {
    log.warn(`handover: ${why}; stopping anyway`);
    handoverResult(result, why);
    void emitEvent(kube, { name: c.podName }, 'Warning', 'HandoverFailed', why);
  };
  // Writes are paused (they block, then fail on what is by then a replica) so that no write is acknowledged by
  // this master and a not-yet-reconfigured replica after Sentinel has promoted another one.
  await pauseWrites(localAddr, left() + 5000, opts()).catch((e: Error) =>
    log.warn(`handover: CLIENT PAUSE failed: ${e.message}`),
  );
  // Redis stops after this, whatever happens: its replication PINGs need not come back.
  await stopReplicationPings(localAddr, opts()).catch((e: Error) =>
    log.warn(`handover: replication PINGs go on (a replica may need a full resync): ${e.message}`),
  );
  // Sentinel picks the replica from INFO up to a period old (1 s; 10 s at worst) and promotes it at once: let every
  // replica receive what this master acknowledged before the pause first (bounded by a third of what is left). A
  // replica the master sees behind is asked for the offset it has processed itself: the master's view moves only
  // with the replica's REPLCONF ACK, once a second, which would hold the paused writes up to a second longer.
  const caughtUpBy = Date.now() + left() / 3;
  for (;;) {
    const now = await askRole(localAddr, opts());
    const behind = now.answered && now.role === 'master' ? await replicasBehind(now.offset, now.replicas, opts()) : [];
    if (!behind.length) break;
    if (Date.now() >= caughtUpBy) {
      log.warn(`handover: ${behind.map(addr).join(', ')} still behind this master; asking for the failover anyway`);
      break;
    }
    await sleep(10);
  }
  const all = [...others, own];
  const ask = () =>
    askSentinelsToFailOver(all, c.masterSet, selfAddresses(c), opts(), {
      among: all,
      need: sentinelsNeeded(c.quorum, Math.max(targets.known, all.length)),
    });
  let { asked, refusals, noCandidate } = await ask();
  // No replica Sentinel may promote yet: one let go as a candidate moments ago (its first sync done, or the last
  // pod on an older engine is this master: candidacy.ts) shows in Sentinel's next INFO, up to a period (1 s; 10 s
  // at worst) later. Asked again, writes still paused, while more than a quarter of the time (at most 3 s) is left
  // for the failover. Only while a replica is a candidate by its own replica-priority: else there is nothing
  // Sentinel could see.
  const until = deadline - Math.min(3000, c.handoverTimeoutMs / 4);
  while (!asked && noCandidate && Date.now() < until && (await someCandidate(local.replicas, opts()))) {
    await sleep(250);
    ({ asked, refusals, noCandidate } = await ask());
  }
  if (!asked) {
    // The paused writes do not go on here: an UNPAUSE would also lift a pause another path holds (a switchover's,
    // or the fence's). They end with Redis, unacknowledged; the data on disk is what the replicas have.
    return failed(`no Sentinel accepted SENTINEL FAILOVER (${refusals.join('; ') || 'none answers'})`, 'failed');
  }
  log.info(`handover: asked Sentinel ${addr(asked)} to fail over; waiting up to ${left()} ms`);
  // From here on writes stay paused whatever happens: a failover is under way, and a write taken now could be
  // acknowledged here and lost when the new master takes over.
  const watching = others.length ? others : [own];
  while (Date.now() < deadline) {
    const views = await Promise.all(watching.map((s) => askSentinel(s, c.masterSet, opts())));
    if (views.every((v) => !v.reachable)) {
      return failed('no other Sentinel answers any more (the whole set is stopping?)', 'failed');
    }
    const m = sentinelMaster(views, c.quorum, targets.known).master;
    if (m && !sameAddress(m, self)) {
      const took = Date.now() - t0;
      log.info(`handover: the sentinels now name ${addr(m)} after ${took} ms; stopping Redis`);
      handoverResult('done', `handed over to ${addr(m)} in ${took} ms`);
      void emitEvent(
        kube,
        { name: c.podName },
        'Normal',
        'HandedOver',
        `shutting down: mastership handed over to ${addr(m)} in ${took} ms`,
      );
      return;
    }
    await sleep(Math.min(100, left()));
  }
  failed(`no new master within ${c.handoverTimeoutMs} ms`, 'timeout');
}
