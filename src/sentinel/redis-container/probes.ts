// The Redis container's probes, as `launcher probe` and the supervisor's /livez and /readyz answer them: alive when
// Redis answers PING (LOADING and MASTERDOWN count as alive); ready by the readiness rule (rules/reconcile.ts).
import { aliveButBusy, redisFailure } from '../../redis/errors.ts';
import { statfs } from 'node:fs/promises';
import type { Config } from '../../config/types.ts';
import type { SentinelView } from '../../model.ts';
import { ask, localRedis, probeOptions } from '../../redis/client.ts';
import { infoFacts, parseInfo } from '../../redis/replies.ts';
import { redisReadiness, type CandidateSeen } from '../rules/readiness.ts';

/** Liveness of Redis: it answers PING within the deadline; LOADING and MASTERDOWN count as alive. */
export async function redisLiveness(c: Config): Promise<{ ok: boolean; reason: string }> {
  try {
    const pong = await ask(localRedis(c), probeOptions(c), (r) => r.ping());
    return { ok: pong === 'PONG', reason: `PING answered ${pong}` };
  } catch (e) {
    const msg = String((e as Error).message);
    const f = redisFailure(e);
    if (aliveButBusy(f)) return { ok: true, reason: `alive (${f.code})` };
    return { ok: false, reason: `Redis does not answer PING: ${msg}` };
  }
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** The data volume's free space in words; a full sync writes the whole dataset there first. */
export async function volumeSpace(dir: string): Promise<string> {
  try {
    const s = await statfs(dir);
    return `the data volume ${dir} has ${mib(s.bavail * s.bsize)} free of ${mib(s.blocks * s.bsize)}`;
  } catch (e) {
    return `the data volume ${dir} cannot be measured (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

export async function redisReadinessCheck(
  c: Config,
  sentinels: SentinelView[],
  knownSentinels: number,
  candidate?: CandidateSeen,
): Promise<{ ok: boolean; reason: string }> {
  let facts;
  try {
    facts = infoFacts(parseInfo(String(await ask(localRedis(c), probeOptions(c), (r) => r.call('INFO')))));
  } catch {
    /* not answering */
  }
  const self = { host: c.podHost, port: c.redisPort };
  const r = redisReadiness(self, facts, sentinels, c.quorum, knownSentinels, c.sentinelSidecar, candidate);
  const link = facts?.role === 'slave' && !facts.loading && (facts.masterLinkStatus !== 'up' || facts.syncInProgress);
  const notSyncing = link && !r.ready;
  return { ok: r.ready, reason: notSyncing ? `${r.reason}; ${await volumeSpace(c.dataDir)}` : r.reason };
}
