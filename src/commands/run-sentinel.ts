// `launcher run --sentinel`: wait until a master exists, write sentinel.conf, run redis-sentinel.
import { setTimeout as sleep } from 'node:timers/promises';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config/types.ts';
import { writeConfigFile } from '../runtime/files.ts';
import { apiFailure, type Kube } from '../kube/api.ts';
import { EVENTS_AT_EXIT_MS, emitEvent, eventsSent } from '../kube/events.ts';
import { setRoleLabel } from '../kube/pods.ts';
import { currentSets } from '../sentinel/sets.ts';
import { log } from '../runtime/log.ts';
import { fingerprint, readTls } from '../runtime/tls-reload.ts';
import { PASSWORD_CHECK_MS } from '../runtime/password-rotation.ts';
import { sentinelPasswordRotator } from '../sentinel/sentinel-container/password.ts';
import { addr } from '../model.ts';
import { renderSentinelConf, type SentinelMonitor } from '../redis/conf.ts';
import { lookForMaster, SentinelGroup } from '../sentinel/sentinel-container/watched-sets.ts';
import { setConfig } from '../sentinel/rules/sets.ts';
import { supervise } from '../runtime/child.ts';
import { serveHttp } from '../runtime/http.ts';
import { createSentinelMetrics } from '../runtime/metrics.ts';
import { SentinelSupervisor } from '../sentinel/sentinel-container/supervisor.ts';
import { SentinelInfoPeriod } from '../sentinel/sentinel-container/info-period.ts';
import { serveHook } from '../sentinel/promote/hook-server.ts';
import { hookSocket } from '../sentinel/promote/hook-client.ts';
import { EXIT_RETRY, parsePromoteArgs, promote, PromoteError } from './promote.ts';

/** The wait loop looks every second; one that has not looked for this long is stuck (liveness fails). */
const WAIT_STUCK_MS = 60_000;
/** How long a dedicated Sentinel's first boot waits for sets whose pods are still deciding their master. */
const SEED_WAIT_MS = 5000;

/** What the wait for a master last saw, for the probes: alive while it keeps looking, never ready. */
type Waiting = { lastLook: number; reasons: string[] };

/** A sidecar Sentinel: waits until its set has a master (never monitoring a guess). */
async function findMaster(c: Config, kube: Kube, waiting: Waiting): Promise<SentinelMonitor> {
  let lastLog = 0;
  for (;;) {
    let reasons: string[];
    waiting.lastLook = Date.now();
    try {
      const look = await lookForMaster(c, kube, { settle: true });
      if (look.monitor) {
        const { master, seed } = look.monitor;
        log.info(
          `monitoring ${addr(master)}: ${look.reasons.join('; ')}; pre-seeded ${seed?.sentinels.length} sentinel(s), ` +
            `${seed?.replicas.length} replica(s)`,
        );
        return look.monitor;
      }
      reasons = look.reasons;
      waiting.reasons = reasons;
    } catch (e) {
      reasons = [`cannot observe the cluster: ${apiFailure(e).message}`];
    }
    if (Date.now() - lastLog >= 5000) {
      log.info(`sentinel waits: ${reasons.join('; ')}`);
      lastLog = Date.now();
    }
    await sleep(1000);
  }
}

/**
 * A dedicated Sentinel (SENTINEL_WATCH_SELECTOR): the sets whose master is decided now, each looked at once; the
 * others are added at run time by the group's loop. Waits only for the API to list the StatefulSets.
 */
async function firstSets(c: Config, kube: Kube, waiting: Waiting): Promise<SentinelMonitor[]> {
  let since: number | undefined;
  for (;;) {
    waiting.lastLook = Date.now();
    try {
      const { sets, problems } = await currentSets(c, kube);
      since ??= Date.now();
      const looks = await Promise.all(
        sets.map((s) =>
          lookForMaster(setConfig(c, s), kube, { settle: true }).catch((e: unknown) => ({
            monitor: undefined,
            livePods: 0,
            reasons: [`cannot observe it: ${apiFailure(e).message}`],
          })),
        ),
      );
      // Sets whose pods run but are still deciding (everything starting at once) get a moment, so that they
      // are written into sentinel.conf with their pre-seeding and client-reconfig-script.
      const deciding = looks.filter((l) => !l.monitor && l.livePods).length;
      if (!deciding || Date.now() - since >= SEED_WAIT_MS) {
        for (const p of problems) log.warn(p);
        looks.forEach((l, i) => {
          const what = l.monitor ? `monitoring ${addr(l.monitor.master)}` : 'not monitored yet';
          log.info(`set ${sets[i].masterSet} (StatefulSet ${sets[i].statefulSet}): ${what}: ${l.reasons.join('; ')}`);
        });
        return looks.flatMap((l, i) => (l.monitor ? [{ ...l.monitor, statefulSet: sets[i].statefulSet }] : []));
      }
      waiting.reasons = [`${deciding} set(s) still deciding their master`];
    } catch (e) {
      waiting.reasons = [`cannot list the Redis StatefulSets: ${apiFailure(e).message}`];
      log.info(`sentinel waits: ${waiting.reasons.join('; ')}`);
    }
    await sleep(500);
  }
}

export async function runSentinel(c: Config, kube: Kube): Promise<number> {
  try {
    await access(c.promoteScript, constants.X_OK);
  } catch {
    throw new ConfigError(
      `LAUNCHER_PROMOTE_SCRIPT=${JSON.stringify(c.promoteScript)} is not an executable file: Sentinel needs it as ` +
        `client-reconfig-script`,
    );
  }
  // The probes answer from the first second: while it waits for a master the container is alive (it keeps looking)
  // but not ready, so a startup or liveness probe never kills it for waiting.
  const metrics = createSentinelMetrics();
  const waiting: Waiting = { lastLook: Date.now(), reasons: ['starting'] };
  const running: { sup?: SentinelSupervisor } = {};
  const stale = () => Date.now() - waiting.lastLook > WAIT_STUCK_MS;
  if (c.httpPort) {
    await serveHttp(
      c.listenAddress,
      c.httpPort,
      {
        liveness: async () =>
          running.sup
            ? running.sup.liveness()
            : { ok: !stale(), reason: `waiting for a master to monitor: ${waiting.reasons.join('; ')}` },
        readiness: async () =>
          running.sup
            ? running.sup.readiness()
            : { ok: false, reason: `waiting for a master to monitor: ${waiting.reasons.join('; ')}` },
      },
      metrics,
    );
  }
  const monitors = c.watchSelector ? await firstSets(c, kube, waiting) : [await findMaster(c, kube, waiting)];
  const conf = join(c.confDir, 'sentinel.conf');
  await writeConfigFile(conf, renderSentinelConf(c, monitors));
  if (!c.sentinelSidecar) {
    try {
      await setRoleLabel(kube, c.podName, 'sentinel');
    } catch (e) {
      log.warn(`could not label this pod: ${apiFailure(e).message}`);
    }
  }
  // The sets' pods, the Sentinels' pods, and each set's record (maintenance mode is on it), watched.
  const group = new SentinelGroup(c, kube, monitors);
  const child = supervise(c.redisSentinelBin, [conf], c.stopTimeoutMs);
  const sup = new SentinelSupervisor(c, kube, metrics, () => group.configs());
  running.sup = sup;
  sup.start();
  group.start();
  const infoPeriod = new SentinelInfoPeriod(c);
  infoPeriod.start();
  // launcher-promote (Sentinel's client-reconfig-script) hands its arguments to this warm process.
  await serveHook(hookSocket(c.confDir), async (args) => {
    try {
      const a = parsePromoteArgs(args);
      return { code: await promote(group.configFor(a.masterSet) ?? c, kube, a), err: [] };
    } catch (e) {
      const f = e instanceof PromoteError ? e : new PromoteError(EXIT_RETRY, (e as Error).message);
      return { code: f.exitCode, err: [`launcher: ${f.message}; see 'launcher promote --help'`] };
    }
  }).catch((e: Error) => log.warn(`cannot listen for launcher-promote (it will run on its own): ${e.message}`));
  const tlsWatch = c.tls ? restartOnNewTls(c, kube, c.tls, () => child.proc.kill('SIGTERM')) : undefined;
  const rotator = sentinelPasswordRotator(
    c,
    kube,
    () => group.configs(),
    () => group.passwordsChanged(),
  );
  const passwordWatch = rotator ? setInterval(() => void rotator.check(), PASSWORD_CHECK_MS) : undefined;
  passwordWatch?.unref();
  const code = await child.done;
  await eventsSent(EVENTS_AT_EXIT_MS);
  clearInterval(tlsWatch);
  clearInterval(passwordWatch);
  infoPeriod.stop();
  sup.stop();
  group.stop();
  return code;
}

/** How often the mounted TLS files are read for a change, and how far apart the Sentinels of a set restart. */
const TLS_CHECK_MS = 2000;
const TLS_RESTART_STAGGER_MS = 5000;

/**
 * Sentinel 7.0 has no CONFIG SET: it reads its TLS files only at start. When they change (a rotated Secret), this
 * container stops Sentinel and exits 0 so that the kubelet starts it again with the new files; ordinal N waits
 * N x TLS_RESTART_STAGGER_MS first, so that a set's Sentinels do not all restart at once.
 */
function restartOnNewTls(c: Config, kube: Kube, t: NonNullable<Config['tls']>, stop: () => void): NodeJS.Timeout {
  const started = fingerprint(t.pem);
  let planned = false;
  const timer = setInterval(() => {
    if (planned) return;
    void readTls(t).then((now) => {
      if (!now || now.print === started || planned) return;
      planned = true;
      const ordinal = Number(/-(\d+)$/.exec(c.podName)?.[1] ?? 0);
      const wait = ordinal * TLS_RESTART_STAGGER_MS;
      const what =
        `the TLS files in ${t.dir} changed; Sentinel reads them only at start, so it restarts in ${wait} ms ` +
        `(the container exits 0 and the kubelet starts it again)`;
      log.info(what);
      void emitEvent(kube, { name: c.podName }, 'Normal', 'SentinelRestartForTLS', what);
      setTimeout(stop, wait).unref();
    });
  }, TLS_CHECK_MS);
  timer.unref();
  return timer;
}
