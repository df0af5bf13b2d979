// Which server the launcher runs: Valkey or Redis, and their tools. An explicit REDIS_SERVER_BIN wins; otherwise the
// first of valkey-server and redis-server on PATH (an image with both is a Valkey one with the Redis names as
// compatibility links). Sentinel, the CLI and the AOF checker are taken from the same family, next to the server
// when it was given as a path. Which engine and version actually answer is told by INFO server (engineOf).
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { Config } from '../config/types.ts';
import { engineText, followProblem, type Engine, type Family } from '../engines.ts';
import type { Kube } from '../kube/api.ts';
import { emitEvent } from '../kube/events.ts';
import { addr, type Address } from '../model.ts';
import { log } from '../runtime/log.ts';
import { localRedis, probeOptions, withRedis } from './client.ts';
import { parseInfo } from './replies.ts';

export { engineText };

export type EngineBins = {
  family: Family;
  server: string;
  sentinel: string;
  cli: string;
  checkAof: string;
  /** How the server was chosen, in words. */
  why: string;
};

/** `valkey-…` or `redis-…` by the program's name. */
const familyOf = (bin: string): Family => (basename(bin).startsWith('valkey') ? 'valkey' : 'redis');

/** The family's tool `what` (sentinel, cli, check-aof) beside `server` when it is a path, else by name on PATH. */
const beside = (server: string, family: Family, what: string) =>
  server.includes('/') ? join(dirname(server), `${family}-${what}`) : `${family}-${what}`;

export function engineBins(o: { server?: string; sentinel?: string; onPath: (name: string) => boolean }): EngineBins {
  let server: string;
  let why: string;
  if (o.server) {
    server = o.server;
    why = `REDIS_SERVER_BIN=${o.server}`;
  } else if (o.onPath('valkey-server')) {
    server = 'valkey-server';
    why = 'valkey-server found on PATH';
  } else if (o.onPath('redis-server')) {
    server = 'redis-server';
    why = 'redis-server found on PATH (no valkey-server)';
  } else {
    server = 'redis-server';
    why = 'neither valkey-server nor redis-server found on PATH';
  }
  const family = familyOf(server);
  return {
    family,
    server,
    sentinel: o.sentinel || beside(server, family, 'sentinel'),
    cli: beside(server, family, 'cli'),
    checkAof: beside(server, family, 'check-aof'),
    why,
  };
}

/** What INFO server says the running server is: `valkey 8.0.1`, `redis 7.0.15`. */
export function engineOf(info: Record<string, string>): Engine | undefined {
  if (info.server_name === 'valkey' || info.valkey_version) {
    return { family: 'valkey', version: info.valkey_version ?? info.redis_version ?? '?' };
  }
  return info.redis_version ? { family: 'redis', version: info.redis_version } : undefined;
}

/** What `<server> --version` says: `Redis server v=7.0.15 …`, `Valkey server v=8.0.1 …`. */
export function engineOfVersion(text: string): Engine | undefined {
  const m = /^(Redis|Valkey) server v=(\S+)/m.exec(text);
  return m ? { family: m[1].toLowerCase() as Family, version: m[2] } : undefined;
}

/** The engine at `a` (INFO server); undefined when it does not answer. */
export async function engineAt(c: Config, a: Address): Promise<Engine | undefined> {
  return withRedis(a, probeOptions(c), (r) => r.call('INFO', 'server'))
    .then((x) => engineOf(parseInfo(String(x))))
    .catch(() => undefined);
}

/** This pod's engine: its running server's INFO, else (not started yet) what its program says of itself. */
export async function localEngine(c: Config): Promise<Engine | undefined> {
  const running = await engineAt(c, localRedis(c));
  if (running) return running;
  const r = await execa(c.redisServerBin, ['--version'], { reject: false, stdin: 'ignore' });
  return engineOfVersion(String(r.stdout));
}

/**
 * Why this pod's Redis (or the one at `replica`) must not replicate `master` (rules in engines.ts: it could not load
 * the master's RDB), or undefined, also when either engine cannot be told (nothing is refused on a guess).
 */
export async function followGuard(c: Config, master: Address, replica?: Address): Promise<string | undefined> {
  const [mine, theirs] = await Promise.all([replica ? engineAt(c, replica) : localEngine(c), engineAt(c, master)]);
  return mine && theirs ? followProblem(mine, theirs) : undefined;
}

/** The refusal last told in an Event (a loop that meets the same one every cycle tells it once). */
let lastRefusal = '';

/**
 * The one check before this pod's Redis is pointed at a master (at boot, by the supervisor, by the cluster's
 * REPLICATE): false, with one log line and an IncompatibleMaster Warning Event, when it could not load that
 * master's RDB; its data is then left alone.
 */
export async function mayFollow(c: Config, kube: Kube, master: Address): Promise<boolean> {
  const problem = await followGuard(c, master);
  if (!problem) return true;
  const line = `refusing to replicate ${addr(master)}: ${problem}`;
  log.warn(line);
  if (line !== lastRefusal) {
    lastRefusal = line;
    await emitEvent(kube, { name: c.podName }, 'Warning', 'IncompatibleMaster', line);
  }
  return false;
}
