// Moving mastership on purpose (the SIGTERM handover, `launcher switchover`, a master that would load for long):
// the one home of the steps that keep acknowledged writes. Asking a Sentinel to fail over (a failover already
// running counts as accepted), which replicas have not yet received everything the master acknowledged, and ending
// a write pause only once the old master can no longer acknowledge a write.
import type { Config } from '../config/types.ts';
import { redisFailure } from '../redis/errors.ts';
import { askAgainForCandidate } from './rules/priority.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { addr, canonicalHost, sameAddress, type Address } from '../model.ts';
import { askRole, askSentinel, forSentinel, pairs, withRedis, type ProbeOptions } from '../redis/client.ts';

/** The addresses Sentinels may name this pod's Redis by: how peers reach it, and its IP (mixed modes). */
export const selfAddresses = (c: Config): Address[] => [
  { host: c.podHost, port: c.redisPort },
  ...(c.podIp && c.podIp !== c.podHost ? [{ host: c.podIp, port: c.redisPort }] : []),
];

/** Sentinel's refusal while a failover of the set is already running (`-INPROG`): that failover is the one asked. */
export const failoverInProgress = (e: unknown): boolean => redisFailure(e).code === 'INPROG';

/**
 * SENTINEL FAILOVER on the first of the given Sentinels that takes it (or is failing over already), and only on
 * one that names `master` (by any of its addresses): a Sentinel that names another master would force a failover
 * of that one, which nothing paused (its acknowledged writes lost), or of an old address (a forced failover needs
 * no election). `asked` is that Sentinel; otherwise every refusal, one line each, and `noCandidate` when Sentinel
 * saw no replica it may promote (rules/priority.ts askAgainForCandidate).
 */
export async function askSentinelsToFailOver(
  sentinels: Address[],
  masterSet: string,
  master: Address[],
  o: ProbeOptions,
  /** How many of `majority.among` must name `master` first (max(quorum, majority)): a stale master never asks. */
  majority: { among: Address[]; need: number },
): Promise<{ asked?: Address; refusals: string[]; noCandidate?: boolean }> {
  const views = await Promise.all(majority.among.map((s) => askSentinel(s, masterSet, o)));
  const naming = views.filter((v) => v.reachable && v.master && master.some((a) => sameAddress(a, v.master ?? a)));
  if (naming.length < majority.need) {
    return {
      refusals: [
        `only ${naming.length} of ${majority.among.length} Sentinels name this master, ${majority.need} needed: a ` +
          'forced failover could replace the master the others chose; none asked',
      ],
    };
  }
  const refusals: string[] = [];
  const codes: string[] = [];
  for (const s of sentinels) {
    try {
      const names = await withRedis(s, forSentinel(o), async (r) => {
        const m = pairs(await r.call('SENTINEL', 'MASTER', masterSet));
        const named = { host: canonicalHost(m.ip ?? ''), port: Number(m.port) };
        if (!master.some((a) => sameAddress(a, named))) return named;
        await r.call('SENTINEL', 'FAILOVER', masterSet);
        return undefined;
      });
      if (names) {
        refusals.push(`${addr(s)}: names ${addr(names)}, not this master; not asked`);
        codes.push('');
        continue;
      }
      return { asked: s, refusals };
    } catch (e) {
      if (failoverInProgress(e)) return { asked: s, refusals };
      codes.push(redisFailure(e).code);
      refusals.push(`${addr(s)}: ${String((e as Error).message).split('\n')[0]}`);
    }
  }
  return { refusals, noCandidate: askAgainForCandidate(codes) };
}

/**
 * The replicas that have not processed the master's stream up to `offset`, by their own ROLE (the master's view
 * moves only with each replica's REPLCONF ACK, once a second).
 */
export async function replicasBehind(
  offset: number,
  replicas: (Address & { offset: number })[],
  o: ProbeOptions,
): Promise<Address[]> {
  const behind = await Promise.all(
    replicas.map(async (r) => {
      if (r.offset >= offset) return undefined;
      const own = await askRole(r, o);
      return own.answered && own.role === 'slave' && own.offset >= offset ? undefined : r;
    }),
  );
  return behind.filter((r): r is Address & { offset: number } => r !== undefined);
}

/** How long the old master is given to answer ROLE slave once told to follow the new one. */
const DEMOTED_MS = 5000;

/**
 * Ends the write pause on a master the Sentinels have replaced, only once it follows the new master: it is made
 * its replica first (what Sentinel would do by itself about ten seconds later), so that every write the pause held
 * fails with READONLY instead of being acknowledged here and dropped at the resync. A master that does not become
 * a replica stays paused (the pause lapses by its own timeout): the reason is returned.
 */
export async function demoteThenUnpause(old: Address, named: Address, o: ProbeOptions): Promise<string | undefined> {
  if (sameAddress(old, named)) return `the Sentinels still name ${addr(old)}`;
  try {
    await withRedis(old, o, (r) => r.call('REPLICAOF', named.host, String(named.port)));
  } catch (e) {
    return `REPLICAOF ${addr(named)} on ${addr(old)} failed: ${(e as Error).message}`;
  }
  for (const end = Date.now() + DEMOTED_MS; ;) {
    const role = await askRole(old, o);
    if (role.answered && role.role === 'slave') break;
    if (Date.now() >= end) return `${addr(old)} did not become a replica of ${addr(named)}`;
    await sleep(20);
  }
  // A replica now: the one CLIENT UNPAUSE the product sends (redis/write-pause.ts). Tried again when the connection
  // fails (the supervisor's heal drops every normal client of a stale master, this one too).
  let failure = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await withRedis(old, o, (r) => r.call('CLIENT', 'UNPAUSE'));
      return undefined;
    } catch (e) {
      failure = (e as Error).message;
    }
  }
  return `${addr(old)} follows ${addr(named)}, but CLIENT UNPAUSE failed (${failure})`;
}
