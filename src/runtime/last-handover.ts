// What the previous run of this container did when it stopped as master, kept on the data volume: a handover
// that failed is counted as the process exits, before any scrape could see it, so the next run reports it
// (redis_ha_previous_handover_timestamp_seconds) and says it in its log.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicSync } from './files.ts';
import { log } from './log.ts';
import type { RedisMetrics } from './metrics.ts';

export type HandoverResult = 'done' | 'failed' | 'timeout' | 'skipped';
export type LastHandover = { result: HandoverResult; at: number; why: string };

const FILE = '.redis-ha-launcher-handover.json';
const RESULTS: HandoverResult[] = ['done', 'failed', 'timeout', 'skipped'];

/** Written on the shutdown path; a failure to write is logged, never thrown. */
export function keepHandover(dataDir: string, h: LastHandover): void {
  try {
    writeFileAtomicSync(join(dataDir, FILE), `${JSON.stringify(h)}\n`);
  } catch (e) {
    log.warn(`could not keep the handover result in ${dataDir}: ${(e as Error).message}`);
  }
}

/**
 * How this run's handover ended, for both modes: counted in redis_ha_handovers_total and kept on the data volume for
 * the next run (the process exits before any scrape).
 */
export function recordHandover(metrics: RedisMetrics, dataDir: string, result: HandoverResult, why: string): void {
  metrics.handovers.inc({ result });
  keepHandover(dataDir, { result, at: Date.now(), why });
}

/** The kept result, when there is a readable one. */
export async function lastHandover(dataDir: string): Promise<LastHandover | undefined> {
  try {
    const h = JSON.parse(await readFile(join(dataDir, FILE), 'utf8')) as Partial<LastHandover>;
    if (!RESULTS.includes(h.result as HandoverResult) || typeof h.at !== 'number') return undefined;
    return { result: h.result as HandoverResult, at: h.at, why: String(h.why ?? '') };
  } catch {
    return undefined;
  }
}

/** At start: the previous run's handover, in the log and as redis_ha_previous_handover_timestamp_seconds. */
export async function reportPreviousHandover(dataDir: string, metrics: RedisMetrics): Promise<void> {
  const previous = await lastHandover(dataDir);
  if (!previous) return;
  metrics.previousHandover.set({ result: previous.result }, previous.at / 1000);
  const when = new Date(previous.at).toISOString();
  const say = previous.result === 'failed' || previous.result === 'timeout' ? log.warn : log.info;
  say(`the previous run stopped as master at ${when}: handover ${previous.result} (${previous.why})`);
}
