// `launcher run`: observe -> decide (until the answer is safe) -> write redis.conf, record, label -> supervise.
import { join } from 'node:path';
import type { Config } from '../config/types.ts';
import { decide, summary } from '../sentinel/rules/boot.ts';
import { decideWithoutApi } from '../sentinel/rules/boot-without-api.ts';
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
import { claimRecord } from '../kube/record.ts';
import { startWatches } from '../kube/watch.ts';
import { log } from '../runtime/log.ts';
import { addr, type Address, type Decision, type FinalDecision, type MasterRecord, type RoleAnswer } from '../model.ts';
import { dataSource } from '../redis/data-dir.ts';
import { observe, observeWithoutApi } from '../sentinel/observe.ts';
import { askSentinelsToFailOver } from '../sentinel/failover.ts';
import { askRole, localRedis, probeOptions, withRedis } from '../redis/client.ts';
import { renderRedisConf } from '../redis/conf.ts';
import { supervise } from '../runtime/child.ts';
import { serveHttp } from '../runtime/http.ts';
import { reportPreviousHandover } from '../runtime/last-handover.ts';
import { createRedisMetrics } from '../runtime/metrics.ts';
import { TICK_MS } from '../runtime/loop.ts';
import { RedisSupervisor } from '../sentinel/redis-container/supervisor.ts';
import { makeThisPodMaster } from '../sentinel/make-master.ts';

const RETRY_MS = 1000;
/** While the API cannot be read: 1 s, doubling, at most 10 s between attempts. */
const backoff = (failures: number) => Math.min(10_000, RETRY_MS * 2 ** Math.max(0, failures - 1));
const LOG_EVERY_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Observes and decides until the decision is master or replica; null when the wait timeout runs out. Every master
 * decision, whatever rule made it, takes effect only through a compare-and-swap on the master of record (the Lease
 * at the resourceVersion this observation saw): two launchers deciding on different views cannot both start as
 * master; the one that loses decides again.
 */
export async function settle(c: Config, kube: Kube, hasData: boolean): Promise<FinalDecision | null> {
  const started = Date.now();
  const deadline = started + c.waitTimeoutMs;
  let lastLog = 0;
  let lastText = '';
  let handoverAsked = 0;
  let apiFailures = 0;
  for (;;) {
    let d: Decision;
    let record: MasterRecord | null = null;
    let sentinels: Address[] = [];
    try {
      const o = { ...(await observe(c, kube, hasData)), waitedMs: Date.now() - started };
      record = o.record;
      sentinels = o.sentinels.filter((s) => s.reachable).map((s) => s.sentinel);
      d = decide(o);
      apiFailures = 0;
    } catch (e) {
      // Rule e: with the API down, a pod can still rejoin as a replica of the master its Sentinels agree on.
      apiFailures++;
      const why = apiFailure(e).message;
      d = decideWithoutApi(await observeWithoutApi(c, why));
      if (d.role === 'wait') d.reasons[d.reasons.length - 1] += `; asking the API again in ${backoff(apiFailures)} ms`;
    }
    if (d.role === 'handover') {
      // Asked once; if no failover came of it within the failover timeout, come back as master after all.
      const refused = handoverAsked
        ? Date.now() - handoverAsked > c.failoverTimeoutMs && 'no failover came of it'
        : await askFailover(c, sentinels);
      if (!handoverAsked && !refused) handoverAsked = Date.now();
      d = refused
        ? { role: 'master', rule: d.rule, reasons: [...d.reasons, `${refused}, so it comes back as master and loads`] }
        : { role: 'wait', reasons: [...d.reasons, 'Sentinel was asked to fail over; waiting for the new master'] };
    }
    if (d.role === 'master') {
      // claimRecord is false only for a lost race (409/404); any other failure says what it was.
      const claimed = await claimRecord(kube, c.masterRecord, c.podName, c.podIp, record).then(
        (won) => (won ? '' : 'another pod changed the master of record first'),
        (e: unknown) => `the master of record could not be written (${apiFailure(e).message})`,
      );
      if (!claimed) return d;
      d = {
        role: 'wait',
        reasons: [...d.reasons.slice(0, -1), `${d.reasons[d.reasons.length - 1]}, but ${claimed}; deciding again`],
      };
    } else if (d.role === 'replica') {
      return d;
    }
    const text = summary(d);
    if (text !== lastText || Date.now() - lastLog >= LOG_EVERY_MS) {
      log.info(`${text}${d.reasons.length > 1 ? ` (${d.reasons.slice(0, -1).join('; ')})` : ''}`);
      lastLog = Date.now();
      lastText = text;
    }
    if (Date.now() >= deadline) {
      log.error(
        `no safe decision within ${c.waitTimeoutMs} ms (LAUNCHER_WAIT_TIMEOUT_MS); exiting so the kubelet restarts ` +
          `the container. Last: ${text}`,
      );
      return null;
    }
    await sleep(apiFailures ? backoff(apiFailures) : RETRY_MS);
  }
}

/**
 * Whether the master holds a key (INFO keyspace), or is still loading its dataset (its keyspace is partial then);
 * true when it cannot be asked: the safe side.
 */
async function holdsData(c: Config, master: Address): Promise<boolean> {
  try {
    const info = String(await withRedis(master, probeOptions(c), (r) => r.call('INFO')));
    return /^db\d+:keys=[1-9]/m.test(info) || /^(async_)?loading:1/m.test(info);
  } catch {
    return true;
  }
}

/** SENTINEL FAILOVER on the first Sentinel that takes it; the reason none did, or undefined when one did. */
async function askFailover(c: Config, sentinels: Address[]): Promise<string | undefined> {
  const { asked, refusals } = await askSentinelsToFailOver(sentinels, c.masterSet, probeOptions(c));
  if (asked) {
    log.info(`asked Sentinel ${addr(asked)} to fail over before loading`);
    return undefined;
  }
  return `no Sentinel would fail over (${refusals.join('; ') || 'none answers'})`;
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
  try {
    await annotateData(kube, c.podName, hasData);
  } catch (e) {
    log.warn(`could not publish this pod's data status: ${apiFailure(e).message}`);
  }
  const holding = { aof: 'has data (its AOF)', rdb: 'has data (dump.rdb, no AOF holding data)', none: 'is empty' };
  log.info(`${c.podName} (${c.podIp}) starting; data dir ${c.dataDir} ${holding[source]}`);
  const d = await settle(c, kube, hasData);
  if (!d) return 1;
  log.info(`decided: ${summary(d)}`);
  for (const r of d.reasons.slice(0, -1)) log.info(`  because ${r}`);
  if (!c.password) log.info('no password is set: protected mode is off so that other pods can connect');
  // An empty replica of a master that holds data is no failover candidate until its first full sync.
  const emptyBehindData = !hasData && d.role === 'replica' && (await holdsData(c, d.master));
  const conf = join(c.confDir, 'redis.conf');
  const loadRdb = source === 'rdb';
  await writeConfigFile(conf, renderRedisConf(c, d.role === 'replica' ? d.master : null, emptyBehindData, loadRdb));
  // From here on the supervisor and the probes read the pods and the record from watches, not one request each.
  const unwatch = startWatches(kube, c, { record: true });
  const metrics = createRedisMetrics();
  await reportPreviousHandover(c.dataDir, metrics);
  const sup = new RedisSupervisor(c, kube, metrics, { candidateOnceSynced: emptyBehindData });
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
  const v = await checkAof(c.dataDir, c.redisServerBin).catch(() => undefined);
  const what = whatIsWrong(redisLine, v);
  const target = v?.target ?? join(c.dataDir, 'appendonlydir', 'appendonly.aof.manifest');
  let line: string;
  let master: RoleAnswer | undefined;
  if (d.role === 'replica') master = await askRole(d.master, probeOptions(c));
  if (d.role === 'replica' && master?.answered && master.role === 'master' && (await holdsData(c, d.master))) {
    try {
      line = corruptReplicaLine(what, await setAsideCorruptAof(c.dataDir), addr(d.master));
    } catch (e) {
      line = `redis-server cannot load its AOF (${what}); moving it aside failed: ${(e as Error).message}`;
    }
    log.warn(line);
  } else {
    const why =
      d.role === 'replica'
        ? `Its master ${addr(d.master)} does not answer as a master holding data`
        : 'This pod was to start as master';
    line = corruptMasterLine(what, target, why);
    log.error(line);
  }
  await emitEvent(kube, { name: c.podName }, 'Warning', 'CorruptAOF', line).catch(() => {});
}
