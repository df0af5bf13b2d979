// Real redis-server / redis-sentinel processes on their own loopback addresses, for tests.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startProcess, type Started } from './processes.ts';
import { waitFor } from './wait.ts';

let next = 0;
let octet: number | undefined;

/**
 * This process's own second octet of 127.0.0.0/8, claimed exclusively (a file created with O_EXCL under the temp
 * dir), so that test files running at the same time never share an address. Claims of dead processes are reclaimed.
 */
export function processOctet(): number {
  if (octet !== undefined) return octet;
  const dir = join(tmpdir(), 'redis-ha-launcher-loopback');
  mkdirSync(dir, { recursive: true });
  for (let n = 10; n < 250; n++) {
    const f = join(dir, String(n));
    try {
      writeFileSync(f, String(process.pid), { flag: 'wx' });
    } catch {
      const owner = Number(readFileSync(f, 'utf8'));
      let alive = true;
      try {
        process.kill(owner, 0);
      } catch {
        alive = false;
      }
      if (alive || owner === process.pid) continue;
      rmSync(f, { force: true });
      try {
        writeFileSync(f, String(process.pid), { flag: 'wx' });
      } catch {
        continue;
      }
    }
    process.on('exit', () => rmSync(f, { force: true }));
    octet = n;
    return n;
  }
  throw new Error('no free loopback octet');
}

/** A fresh loopback address 127.<this process's octet>.<x>.<y>, unique across concurrently running test files. */
export function loopbackAddress(): string {
  const n = next++;
  return `127.${processOctet()}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

export type RedisInstance = Started & { host: string; port: number; dir: string; client: () => Redis };

export function connect(host: string, port: number, extra: Record<string, unknown> = {}): Redis {
  const r = new Redis({
    host,
    port,
    lazyConnect: false,
    connectTimeout: 2000,
    commandTimeout: 12000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    disableClientInfo: true,
    ...extra,
  });
  r.on('error', () => {});
  return r;
}

/** Asks one command of a Redis/Sentinel with a deadline; undefined when it does not answer. */
export async function ask(host: string, port: number, ...cmd: (string | number)[]): Promise<unknown> {
  return askWith({}, host, port, ...cmd);
}

/** ask() as a given user (the default user when only a password is given). */
export async function askWith(
  auth: { username?: string; password?: string; tls?: object },
  host: string,
  port: number,
  ...cmd: (string | number)[]
): Promise<unknown> {
  const r = new Redis({
    host,
    port,
    ...auth,
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    disableClientInfo: true,
    enableReadyCheck: false,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return await r.call(String(cmd[0]), ...cmd.slice(1).map(String));
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

export async function waitUntilPing(host: string, port: number, ms = 10_000): Promise<void> {
  await waitFor(`PONG from ${host}:${port}`, async () => (await ask(host, port, 'PING')) === 'PONG', ms);
}

/** Starts redis-server on host:port with its own data dir and config; waits until it answers PING. */
export async function startRedis(opts: {
  host: string;
  port?: number;
  dir: string;
  conf?: string[];
  bin?: string;
}): Promise<RedisInstance> {
  const port = opts.port ?? 6379;
  await mkdir(opts.dir, { recursive: true });
  const confPath = join(opts.dir, 'redis.conf');
  const conf = [
    `bind ${opts.host}`,
    `port ${port}`,
    `dir ${opts.dir}`,
    'daemonize no',
    'logfile ""',
    'protected-mode no',
    'save ""',
    `replica-announce-ip ${opts.host}`,
    `replica-announce-port ${port}`,
    ...(opts.conf ?? []),
  ];
  await writeFile(confPath, conf.join('\n') + '\n');
  const p = startProcess(`redis ${opts.host}:${port}`, opts.bin ?? 'redis-server', [confPath]);
  await Promise.race([
    waitUntilPing(opts.host, port),
    p.exited.then((r) => {
      throw new Error(`redis-server exited early: ${JSON.stringify(r)}`);
    }),
  ]);
  return { ...p, host: opts.host, port, dir: opts.dir, client: () => connect(opts.host, port) };
}

/** Starts redis-sentinel monitoring a master; waits until it answers PING. */
export async function startSentinel(opts: {
  host: string;
  port?: number;
  dir: string;
  master: { name: string; host: string; port: number; quorum: number };
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  extra?: string[];
}): Promise<RedisInstance> {
  const port = opts.port ?? 26379;
  await mkdir(opts.dir, { recursive: true });
  const confPath = join(opts.dir, 'sentinel.conf');
  const m = opts.master;
  const conf = [
    `bind ${opts.host}`,
    `port ${port}`,
    `dir ${opts.dir}`,
    'daemonize no',
    'logfile ""',
    `sentinel announce-ip ${opts.host}`,
    `sentinel announce-port ${port}`,
    `sentinel monitor ${m.name} ${m.host} ${m.port} ${m.quorum}`,
    `sentinel down-after-milliseconds ${m.name} ${opts.downAfterMs ?? 1000}`,
    `sentinel failover-timeout ${m.name} ${opts.failoverTimeoutMs ?? 5000}`,
    ...(opts.extra ?? []),
  ];
  await writeFile(confPath, conf.join('\n') + '\n');
  const p = startProcess(`sentinel ${opts.host}:${port}`, 'redis-sentinel', [confPath]);
  await Promise.race([
    waitUntilPing(opts.host, port),
    p.exited.then((r) => {
      throw new Error(`redis-sentinel exited early: ${JSON.stringify(r)}`);
    }),
  ]);
  return { ...p, host: opts.host, port, dir: opts.dir, client: () => connect(opts.host, port) };
}

/**
 * Corrupts the largest incr file of dataDir's AOF in its middle, at the start of a command ('*' becomes 'X'), as a
 * bad sector or a torn write would: Redis then refuses to load it (a truncated tail it would load by itself).
 * Returns the file's name.
 */
export function corruptAof(dataDir: string): string {
  const dir = join(dataDir, 'appendonlydir');
  const incr = readdirSync(dir)
    .filter((f) => f.endsWith('.incr.aof'))
    .map((f) => ({ f, size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size)[0];
  if (!incr || incr.size < 100) throw new Error(`no incr AOF with commands in ${dir}`);
  const path = join(dir, incr.f);
  const buf = readFileSync(path);
  const at = buf.indexOf('\r\n*', Math.floor(buf.length / 2));
  if (at < 0) throw new Error(`no command start after the middle of ${path}`);
  buf[at + 2] = 'X'.charCodeAt(0);
  writeFileSync(path, buf);
  return incr.f;
}
