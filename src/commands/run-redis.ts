// `launcher run`: observe -> decide (until the answer is safe) -> write redis.conf, record, label -> supervise.
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, join } from 'node:path';
import type { Config } from '../config/types.ts';
import { summary } from '../sentinel/rules/boot.ts';
import { writeConfigFile } from '../runtime/files.ts';
import {
  aofLoadFailure,
  checkAof,
  corruptMasterLine,
  corruptReplicaLine,
  setAsideCorruptAof,
  whatIsWrong,
} from '../redis/aof-check.ts';
import { apiFailure, type Kube } from '../kube/api.ts';
import { EVENTS_AT_EXIT_MS, emitEvent, eventsSent } from '../kube/events.ts';
import { annotateData, setRoleLabel } from '../kube/pods.ts';
import { startWatches } from '../kube/watch.ts';
import { log } from '../runtime/log.ts';
import { addr, type Address, type FinalDecision, type RoleAnswer } from '../model.ts';
import { dataSource } from '../redis/data-dir.ts';
import { askRole, localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { localEngine, mayFollow } from '../redis/follow-guard.ts';
import { engineText } from '../engines.ts';
import { engineHold } from '../sentinel/redis-container/candidacy.ts';
import { renderRedisConf } from '../redis/conf.ts';
import { supervise } from '../runtime/child.ts';
import { serveHttp } from '../runtime/http.ts';
import { reportPreviousHandover } from '../runtime/last-handover.ts';
import { createRedisMetrics } from '../runtime/metrics.ts';
import { TICK_MS } from '../runtime/loop.ts';
import { RedisSupervisor } from '../sentinel/redis-container/supervisor.ts';
import { makeThisPodMaster } from '../sentinel/make-master.ts';
import { settle } from '../sentinel/redis-container/settle.ts';

/**
 * Whether the master holds a key (INFO keyspace), or is still loading its dataset (its keyspace is partial then);
 * `unanswered` when it cannot be asked (true: the safe side for an empty replica).
 */
async function holdsData(c: Config, master: Address, unanswered = true): Promise<boolean> {
  try {
    const info = String(await withRedis(master, probeOptions(c), (r) => r.call('INFO')));
    return /^db\d+:keys=[1-9]/m.test(info) || /^(async_)?loading:1/m.test(info);
  } catch {
    return unanswered;
  }
}

/**
 * Once Redis answers PING (however long it loads), the pod's label tells what it is: master only when the decision
 * made it master (the record was claimed when it was decided). Nothing is written for a Redis that exited first:
 * false then.
 */
async function labelWhenUp(
  c: Config,
  kube: Kube,
  d: FinalDecision,
  exited: () => boolean,
  onUp: () => void,
): Promise<boolean> {
  for (;;) {
    if (exited()) return false;
    try {
      if ((await withRedis(localRedis(c), probeOptions(c), (r) => r.ping())) === 'PONG') {
        onUp();
        break;
      }
    } catch {
      /* not up yet, or loading */
    }
    await sleep(100);
  }
  if (exited()) return false;
  try {
    if (d.role === 'master') {
      const r = await makeThisPodMaster(c, kube);
      if (r.refused) {
        log.info(`not labelling this pod master after all: ${r.refused}`);
        return !exited();
      }
      if (r.demoted.length) log.info(`removed the master label from ${r.demoted.join(', ')}`);
    } else {
      await setRoleLabel(kube, c.podName, 'slave');
    }
    log.info(`labelled ${c.podName} redis-role=${d.role === 'master' ? 'master' : 'slave'}`);
  } catch (e) {
    log.warn(`could not label this pod: ${apiFailure(e).message}`);
  }
  return !exited();
}

/**
 * Redis loaded dump.rdb with the AOF off (redis/data-dir.ts dataSource): the AOF is switched on now, written from
 * memory in the background, and is what the next start loads. Until that rewrite is done the dir still has no AOF
 * holding data, so a restart meanwhile loads the RDB again.
 */
async function switchAofOn(c: Config): Promise<void> {
  try {
    await withRedis(localRedis(c), probeOptions(c), (r) => r.call('CONFIG', 'SET', 'appendonly', 'yes'));
    log.info('dump.rdb loaded; the AOF is switched on (appendonly yes) and written from memory');
  } catch (e) {
    log.warn(
      `could not switch the AOF on after loading dump.rdb: ${(e as Error).message}; the next start loads it again`,
    );
  }
}

export async function runRedis(c: Config, kube: Kube): Promise<number> {
  const source = await dataSource(c.dataDir);
  const hasData = source !== 'none';
  const engine = await localEngine(c);
  try {
    await annotateData(kube, c.podName, hasData, engineText(engine));
  } catch (e) {
    log.warn(`could not publish this pod's data status: ${apiFailure(e).message}`);
  }
  const holding = { aof: 'has data (its AOF)', rdb: 'has data (dump.rdb, no AOF holding data)', none: 'is empty' };
  log.info(`${c.podName} (${c.podHost}) starting; data dir ${c.dataDir} ${holding[source]}`);
  const d = await settle(c, kube, hasData);
  if (!d) return 1;
  log.info(`decided: ${summary(d)}`);
  for (const r of d.reasons.slice(0, -1)) log.info(`  because ${r}`);
  // Never pointed at a master whose RDB it could not load: it would empty its data first. Exit 1, data untouched.
  if (d.role === 'replica' && !(await mayFollow(c, kube, d.master, engine))) return 1;
  if (!c.password) log.info('no password is set: protected mode is off so that other pods can connect');
  // A replica of a master that holds data is no failover candidate until its first full sync (empty or stale).
  // A replica with data of its own is held only while its master answers holding data (it syncs shortly): with the
  // master gone, it may be the best copy left.
  const behindData = d.role === 'replica' && (await holdsData(c, d.master, !hasData));
  // Nor while another replica could not follow it, were it promoted (a move between engines: candidacy.ts).
  const master = d.role === 'replica' ? d.master : undefined;
  const unread = "no failover candidate until the other pods' engines can be read (the API did not answer)";
  const held = await engineHold(c, kube, engine, master).catch(() => (engine ? unread : undefined));
  if (held) log.info(`replica-priority 0: ${c.podName} is ${held}`);
  const conf = join(c.confDir, 'redis.conf');
  const loadRdb = source === 'rdb';
  const notCandidate = behindData || Boolean(held);
  await writeConfigFile(conf, renderRedisConf(c, d.role === 'replica' ? d.master : null, notCandidate, loadRdb));
  // From here on the supervisor and the probes read the pods and the record from watches, not one request each.
  const unwatch = startWatches(kube, c, { record: true });
  const metrics = createRedisMetrics();
  await reportPreviousHandover(c.dataDir, metrics);
  const sup = new RedisSupervisor(c, kube, metrics, { candidateOnceSynced: behindData, engine, engineHold: held });
  const child = supervise(c.redisServerBin, [conf], c.stopTimeoutMs, () => sup.handover(), c.handoverTimeoutMs);
  let exited = false;
  void child.done.then(() => (exited = true));
  if (c.httpPort) {
    await serveHttp(
      c.listenAddress,
      c.httpPort,
      { liveness: () => sup.liveness(), readiness: () => sup.readiness() },
      metrics,
    );
  }
  void emitEvent(
    kube,
    { name: c.podName },
    'Normal',
    d.role === 'master' ? 'StartingAsMaster' : 'StartingAsReplica',
    summary(d),
  );
  let answered = false;
  void labelWhenUp(
    c,
    kube,
    d,
    () => exited,
    () => (answered = true),
  ).then(async (up) => {
    if (up && loadRdb) await switchAofOn(c);
    if (up && !exited) sup.start(TICK_MS);
  });
  const code = await child.done;
  await eventsSent(EVENTS_AT_EXIT_MS);
  sup.stop();
  unwatch();
  // Redis exits 1 when it cannot load its AOF; whether that was the reason, redis-check-aof says.
  if (code === 1 && !answered) await explainFailedLoad(c, kube, d, child.lastLines());
  return code;
}

/**
 * A corrupt AOF (Redis's last lines say so): a replica's is moved aside so that the next start resyncs, while its
 * master answers as a master holding data; otherwise (a master, or a replica whose master is not that) it is kept,
 * with the fix in one line.
 */
async function explainFailedLoad(c: Config, kube: Kube, d: FinalDecision, lines: string[]): Promise<void> {
  const redisLine = aofLoadFailure(lines);
  if (!redisLine) return;
  const v = await checkAof(c.dataDir, c.checkAofBin).catch(() => undefined);
  const what = whatIsWrong(redisLine, v);
  const target = v?.target ?? join(c.dataDir, 'appendonlydir', 'appendonly.aof.manifest');
  let line: string;
  let master: RoleAnswer | undefined;
  if (d.role === 'replica') master = await askRole(d.master, probeOptions(c));
  if (d.role === 'replica' && master?.answered && master.role === 'master' && (await holdsData(c, d.master))) {
    try {
      line = corruptReplicaLine(what, await setAsideCorruptAof(c.dataDir), addr(d.master), aofTools(c));
    } catch (e) {
      line = `redis-server cannot load its AOF (${what}); moving it aside failed: ${(e as Error).message}`;
    }
    log.warn(line);
  } else {
    const why =
      d.role === 'replica'
        ? `Its master ${addr(d.master)} does not answer as a master holding data`
        : 'This pod was to start as master';
    line = corruptMasterLine(what, target, why, aofTools(c));
    log.error(line);
  }
  await emitEvent(kube, { name: c.podName }, 'Warning', 'CorruptAOF', line).catch(() => {});
}

/** The engine's server and AOF checker by name, for the lines that say what to run. */
const aofTools = (c: Config) => ({ server: basename(c.redisServerBin), checker: basename(c.checkAofBin) });
