// `launcher run --sentinel`: wait until a master exists, write sentinel.conf, run redis-sentinel.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import { decideSentinelMaster } from '../decide.ts';
import { writeFileAtomic } from '../files.ts';
import { apiFailure, type Kube } from '../kube/api.ts';
import { setRoleLabel } from '../kube/pods.ts';
import { log } from '../log.ts';
import { addr, type Address } from '../model.ts';
import { observe } from '../observe.ts';
import { renderSentinelConf } from '../render.ts';
import { supervise } from '../supervise.ts';
import { serveHttp } from '../http.ts';
import { createMetrics } from '../metrics.ts';
import { SentinelSupervisor } from '../sentinel-supervisor.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function findMaster(c: Config, kube: Kube): Promise<Address> {
  let lastLog = 0;
  for (;;) {
    let reasons: string[];
    try {
      const r = decideSentinelMaster(await observe(c, kube, false));
      if (r.master) {
        log.info(`monitoring ${addr(r.master)}: ${r.reasons.join('; ')}`);
        return r.master;
      }
      reasons = r.reasons;
    } catch (e) {
      reasons = [`cannot observe the cluster: ${apiFailure(e).message}`];
    }
    if (Date.now() - lastLog >= 5000) { log.info(`sentinel waits: ${reasons.join('; ')}`); lastLog = Date.now(); }
    await sleep(1000);
  }
}

export async function runSentinel(c: Config, kube: Kube): Promise<number> {
  try {
    await access(c.promoteScript, constants.X_OK);
  } catch {
    throw new ConfigError(`LAUNCHER_PROMOTE_SCRIPT=${JSON.stringify(c.promoteScript)} is not an executable file: Sentinel needs it as client-reconfig-script`);
  }
  const master = await findMaster(c, kube);
  const conf = join(c.confDir, 'sentinel.conf');
  await writeFileAtomic(conf, renderSentinelConf(c, master));
  if (!c.sentinelSidecar) {
    try { await setRoleLabel(kube, c.podName, 'sentinel'); } catch (e) { log.warn(`could not label this pod: ${apiFailure(e).message}`); }
  }
  const metrics = createMetrics();
  const sup = new SentinelSupervisor(c, kube, metrics);
  const child = supervise(c.redisSentinelBin, [conf], c.stopTimeoutMs);
  if (c.httpPort) await serveHttp(c.listenAddress, c.httpPort, { liveness: () => sup.liveness(), readiness: () => sup.readiness() }, metrics);
  sup.start();
  const code = await child.done;
  sup.stop();
  return code;
}
