// Boot of the Redis container: observe and decide (rules/boot.ts) until the answer is safe to act on. A master
// decision takes effect only through a compare-and-swap on the master of record; a master that would load for long
// asks Sentinel to fail over first (sentinel/failover.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/types.ts';
import { apiFailure, type Kube } from '../../kube/api.ts';
import { claimRecord } from '../../kube/record.ts';
import {
  addr,
  sentinelsNeeded,
  type Address,
  type Decision,
  type FinalDecision,
  type MasterRecord,
} from '../../model.ts';
import { probeOptions } from '../../redis/client.ts';
import { log } from '../../runtime/log.ts';
import { askSentinelsToFailOver, selfAddresses } from '../failover.ts';
import { observe, observeWithoutApi } from '../observe.ts';
import { decide, summary } from '../rules/boot.ts';
import { decideWithoutApi } from '../rules/boot-without-api.ts';

const RETRY_MS = 1000;
/** While the API cannot be read: 1 s, doubling, at most 10 s between attempts. */
const backoff = (failures: number) => Math.min(10_000, RETRY_MS * 2 ** Math.max(0, failures - 1));
const LOG_EVERY_MS = 5000;

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
    let known = 0;
    try {
      const o = { ...(await observe(c, kube, hasData)), waitedMs: Date.now() - started };
      record = o.record;
      sentinels = o.sentinels.filter((s) => s.reachable).map((s) => s.sentinel);
      known = o.knownSentinels;
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
        : await askFailover(c, sentinels, known);
      if (!handoverAsked && !refused) handoverAsked = Date.now();
      d = refused
        ? { role: 'master', rule: d.rule, reasons: [...d.reasons, `${refused}, so it comes back as master and loads`] }
        : { role: 'wait', reasons: [...d.reasons, 'Sentinel was asked to fail over; waiting for the new master'] };
    }
    if (d.role === 'master') {
      // claimRecord is false only for a lost race (409/404); any other failure says what it was.
      const claimed = await claimRecord(kube, c.masterRecord, c.podName, c.podHost, record).then(
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

/** SENTINEL FAILOVER on the first Sentinel that takes it; the reason none did, or undefined when one did. */
async function askFailover(c: Config, sentinels: Address[], known: number): Promise<string | undefined> {
  const { asked, refusals } = await askSentinelsToFailOver(sentinels, c.masterSet, selfAddresses(c), probeOptions(c), {
    among: sentinels,
    need: sentinelsNeeded(c.quorum, Math.max(known, sentinels.length)),
  });
  if (asked) {
    log.info(`asked Sentinel ${addr(asked)} to fail over before loading`);
    return undefined;
  }
  return `no Sentinel would fail over (${refusals.join('; ') || 'none answers'})`;
}
