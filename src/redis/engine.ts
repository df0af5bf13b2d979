// Which server the launcher runs: Valkey or Redis, and their tools. An explicit REDIS_SERVER_BIN wins; otherwise the
// first of valkey-server and redis-server on PATH (an image with both is a Valkey one with the Redis names as
// compatibility links). Sentinel, the CLI and the AOF checker are taken from the same family, next to the server
// when it was given as a path. Which engine and version actually answer is told by INFO server (engineOf).
import { basename, dirname, join } from 'node:path';
import { engineText, type Engine, type Family } from '../engines.ts';

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
