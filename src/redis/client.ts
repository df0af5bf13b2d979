// One-shot questions to Redis and Sentinel, each with a hard deadline: a probe never hangs.
import { redisFailure } from './errors.ts';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/types.ts';
import {
  canonicalHost,
  sameAddress,
  type Address,
  type ListedReplica,
  type RoleAnswer,
  type SentinelView,
} from '../model.ts';
import { parseRole } from './replies.ts';

export type ProbeOptions = {
  timeoutMs: number;
  /** The ACL user (`launcher` when REDIS_ACL_LAUNCHER_PASSWORD_FILE is set), else the default user. */
  username?: string;
  password?: string;
  sentinelPassword?: string;
  sourceAddress?: string;
  /** REDIS_TLS_DIR's certificate, key and CA, for TLS to Redis and Sentinel. */
  tls?: { cert: string; key: string; ca: string };
};

/**
 * ioredis' TLS options: the CA is trusted and this pod's certificate presented (for tls-auth-clients); the peer's
 * name is not checked, as Redis does not check it on replication links: pods are reached by IP, which a
 * certificate issued before the pod existed cannot name.
 */
export const tlsOptions = (t: NonNullable<ProbeOptions['tls']>) => ({
  ca: t.ca,
  cert: t.cert,
  key: t.key,
  checkServerIdentity: () => undefined,
});

/** The same options for a Sentinel: its own password (SENTINEL_PASSWORD_FILE, else the Redis one) or none. */
export const forSentinel = (o: ProbeOptions): ProbeOptions => ({
  ...o,
  username: undefined,
  password: o.sentinelPassword,
});

/** How the launcher talks to Redis and Sentinel: the probe deadline, the password, the source address. */
export const probeOptions = (c: Config): ProbeOptions => ({
  timeoutMs: c.probeTimeoutMs,
  username: c.acl.launcher ? 'launcher' : undefined,
  password: c.acl.launcher ?? c.password,
  sentinelPassword: c.sentinelPassword,
  sourceAddress: c.listenAddress,
  tls: c.tls?.pem,
});

/** Where this pod's own Redis / Sentinel answers (they bind LISTEN_ADDRESS, or all interfaces). */
export const localRedis = (c: Config): Address => ({ host: c.listenAddress ?? '127.0.0.1', port: c.redisPort });
export const localSentinel = (c: Config): Address => ({ host: c.listenAddress ?? '127.0.0.1', port: c.sentinelPort });

/** How every connection of the launcher is made: no retries, no offline queue, connected on demand, RESP2. */
function clientOptions(a: Address, o: ProbeOptions): RedisOptions {
  return {
    host: a.host,
    port: a.port,
    username: o.username,
    password: o.password,
    lazyConnect: true,
    connectTimeout: o.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    disableClientInfo: true,
    enableReadyCheck: false,
    protocol: 2,
    ...(o.sourceAddress ? { localAddress: o.sourceAddress } : {}),
    ...(o.tls ? { tls: tlsOptions(o.tls) } : {}),
  } as RedisOptions;
}

/** Runs fn on a fresh connection; rejects after timeoutMs whatever happens. */
export async function withRedis<T>(a: Address, o: ProbeOptions, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ ...clientOptions(a, o), commandTimeout: o.timeoutMs });
  let lastErr: Error | undefined;
  r.on('error', (e: Error) => {
    lastErr = e;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer from ${a.host}:${a.port} within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
  });
  try {
    return await Promise.race([
      (async () => {
        await r.connect();
        return fn(r);
      })(),
      deadline,
    ]);
  } catch (e) {
    throw lastErr ?? e;
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}

/**
 * The supervisors' frequent read-only questions (ROLE every second, every probe's Sentinels and INFO) on a kept
 * connection per address instead of a new one each time; same deadline as withRedis. A kept connection that
 * fails is dropped; when it had worked before and fails at once (Redis restarted, or dropped its clients), the
 * question is asked once more on a new one. Only for questions that change nothing.
 */
type Kept = { r: Redis; connected: Promise<void> };
const kept = new Map<string, Kept>();

/** The kept connection for this address: open, opening (shared by concurrent questions), or a new one. */
function keptClient(a: Address, o: ProbeOptions): { k: Kept; key: string; reused: boolean } {
  const key = JSON.stringify([
    a.host,
    a.port,
    o.username ?? null,
    o.password ?? null,
    o.sourceAddress ?? null,
    !!o.tls,
  ]);
  const old = kept.get(key);
  if (old && !['end', 'close'].includes(old.r.status)) return { k: old, key, reused: old.r.status === 'ready' };
  const r = new Redis(clientOptions(a, o));
  r.on('error', () => {});
  const connected = r.connect().then(() => {
    // A kept connection never holds the process open (one-shot commands exit when done).
    (r as unknown as { stream?: { unref?: () => void } }).stream?.unref?.();
  });
  connected.catch(() => {});
  const k = { r, connected };
  kept.set(key, k);
  return { k, key, reused: false };
}

export async function ask<T>(a: Address, o: ProbeOptions, fn: (r: Redis) => Promise<T>): Promise<T> {
  const started = Date.now();
  const once = async (): Promise<{ ok: true; v: T } | { ok: false; e: unknown; reused: boolean }> => {
    const { k, key, reused } = keptClient(a, o);
    let timer: NodeJS.Timeout | undefined;
    const left = Math.max(1, o.timeoutMs - (Date.now() - started));
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from ${a.host}:${a.port} within ${o.timeoutMs} ms`)), left);
    });
    try {
      const v = await Promise.race([k.connected.then(() => fn(k.r)), deadline]);
      return { ok: true, v };
    } catch (e) {
      // An error reply (LOADING, NOPERM, ...) is an answer on a healthy connection; anything else ends it.
      const replyError = e instanceof Error && e.name === 'ReplyError';
      if (!replyError) {
        if (kept.get(key) === k) kept.delete(key);
        k.r.disconnect();
      }
      return { ok: false, e, reused: reused && !replyError };
    } finally {
      clearTimeout(timer);
    }
  };
  let res = await once();
  if (!res.ok && res.reused && Date.now() - started < o.timeoutMs / 2) res = await once();
  if (!res.ok) throw res.e;
  return res.v;
}

export async function askRole(a: Address, o: ProbeOptions): Promise<RoleAnswer> {
  try {
    return parseRole(await ask(a, o, (r) => r.call('ROLE')));
  } catch {
    return { answered: false };
  }
}

/** Turns Sentinel's flat [k, v, k, v] records into an object. */
export function pairs(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/** What one Sentinel says about the master set (SENTINEL MASTER <name>). Sentinels are asked with forSentinel(). */
export async function askSentinel(s: Address, masterSet: string, o: ProbeOptions): Promise<SentinelView> {
  try {
    return await ask(s, forSentinel(o), async (r) => {
      let info: Record<string, string>;
      try {
        info = pairs(await r.call('SENTINEL', 'MASTER', masterSet));
      } catch (e) {
        if (redisFailure(e).noSuchMaster) return { sentinel: s, reachable: true, master: null };
        throw e;
      }
      const flags = (info.flags ?? '').split(',');
      const master = { host: canonicalHost(info.ip), port: Number(info.port) };
      const failing =
        flags.includes('failover_in_progress') ||
        (info['failover-state'] !== undefined && info['failover-state'] !== 'none');
      // During its failover, past the promotion, the master it already gives out (to clients, and to the other
      // Sentinels in its hellos) is the replica it promoted; SENTINEL MASTER keeps the old address until the end.
      // Unanswered, the view stays what SENTINEL MASTER says (a failover in progress, no promoted replica).
      const givesOut = failing
        ? await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterSet).catch(() => undefined)
        : undefined;
      const promoted = Array.isArray(givesOut)
        ? { host: canonicalHost(String(givesOut[0])), port: Number(givesOut[1]) }
        : undefined;
      return {
        sentinel: s,
        reachable: true,
        master,
        ...(promoted && !sameAddress(promoted, master) ? { promoted } : {}),
        ...(info['config-epoch'] !== undefined ? { epoch: Number(info['config-epoch']) } : {}),
        ...(info['down-after-milliseconds'] ? { downAfterMs: Number(info['down-after-milliseconds']) } : {}),
        failoverInProgress: failing,
      };
    });
  } catch (e) {
    // An error reply (NOAUTH, WRONGPASS, …) comes from a Sentinel that is alive: it names nothing we can trust.
    if (e instanceof Error && e.name === 'ReplyError') return { sentinel: s, reachable: true, master: null };
    return { sentinel: s, reachable: false };
  }
}

/** SENTINEL REPLICAS: the replicas a Sentinel knows of the set; undefined when it does not answer. */
export async function sentinelReplicas(
  s: Address,
  masterSet: string,
  o: ProbeOptions,
): Promise<ListedReplica[] | undefined> {
  try {
    const reply = await ask(s, forSentinel(o), (r) => r.call('SENTINEL', 'REPLICAS', masterSet));
    return (reply as unknown[]).map(pairs).map((x) => ({
      host: canonicalHost(x.ip ?? ''),
      port: Number(x.port),
      priority: Number(x['slave-priority']),
      flags: (x.flags ?? '').split(','),
      infoAgeMs: Number(x['info-refresh'] ?? 0),
    }));
  } catch {
    return undefined;
  }
}

/** SENTINEL GET-MASTER-ADDR-BY-NAME: the address a Sentinel currently gives out, or null. */
export async function sentinelMasterAddr(
  s: Address,
  masterSet: string,
  o: ProbeOptions,
): Promise<Address | null | undefined> {
  try {
    const reply = await ask(s, forSentinel(o), (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterSet));
    if (!Array.isArray(reply)) return null;
    return { host: String(reply[0]), port: Number(reply[1]) };
  } catch {
    return undefined;
  }
}
