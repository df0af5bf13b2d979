// Observe: gather one immutable snapshot of Kubernetes, the Sentinels and the Redis pods. Read-only.
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { apiFailure, withTimeout, type Kube } from './kube/api.ts';
import { listPods, sentinelTargets } from './kube/pods.ts';
import { readRecord } from './kube/record.ts';
import {
  addr,
  hasIp,
  isLive,
  ordinalOf,
  type Address,
  type Observation,
  type PodView,
  type RoleAnswer,
  type SentinelView,
} from './model.ts';
import type { ApiLessObservation } from './decide.ts';
import { ask, askRole, askSentinel, pairs, forSentinel, probeOptions, type ProbeOptions } from './redis.ts';

/** How many bytes of persistence files (RDB, AOF) the data dir holds: what a restart has to load. */
export async function dataDirBytes(dir: string): Promise<number> {
  const size = async (p: string) => {
    try {
      return (await stat(p)).size;
    } catch {
      return 0;
    }
  };
  let total = (await size(join(dir, 'dump.rdb'))) + (await size(join(dir, 'appendonly.aof')));
  try {
    for (const f of await readdir(join(dir, 'appendonlydir'))) total += await size(join(dir, 'appendonlydir', f));
  } catch {
    /* no AOF directory */
  }
  return total;
}

/**
 * Whether an RDB file (or an AOF's RDB preamble) holds anything beyond its header: Redis writes only aux fields and
 * EOF for an empty dataset, and a SELECTDB (or function, module) opcode before the first key otherwise. Unreadable
 * or unknown content counts as data: it is not for the launcher to call it empty.
 */
export function rdbHasData(buf: Buffer): boolean {
  if (buf.length < 9 || buf.toString('latin1', 0, 5) !== 'REDIS') return true;
  let i = 9;
  const length = (): number => {
    const b = buf[i++];
    const kind = b >> 6;
    if (kind === 0) return b & 0x3f;
    if (kind === 1) return ((b & 0x3f) << 8) | buf[i++];
    if (b === 0x80) return ((i += 4), buf.readUInt32BE(i - 4));
    if (b === 0x81) return ((i += 8), Number(buf.readBigUInt64BE(i - 8)));
    throw new Error('special encoding');
  };
  const skipString = () => {
    const b = buf[i];
    if (b >> 6 !== 3) {
      const n = length(); // (not `i += length()`: that would add to i as it was before length() moved it)
      i += n;
      return;
    }
    i++;
    const enc = b & 0x3f;
    if (enc === 3) {
      const compressed = length();
      length();
      i += compressed;
    } else i += [1, 2, 4][enc] ?? 0;
  };
  try {
    while (i < buf.length) {
      const op = buf[i++];
      if (op === 0xff) return false; // EOF right after the aux fields: no key
      if (op !== 0xfa) return true; // SELECTDB, RESIZEDB, FUNCTION, MODULE_AUX: there is data
      skipString();
      skipString();
    }
  } catch {
    return true;
  }
  return true;
}

/**
 * Whether the data dir holds a dataset, judged by content: an RDB with a key, an AOF with a command, or an AOF
 * directory whose base holds data or whose incr file has a command. A Redis that merely started (it creates an
 * empty base and incr file at once with appendonly yes) has no data: that is what "has data" means.
 */
export async function dataDirHasData(dir: string): Promise<boolean> {
  const head = async (p: string) => {
    try {
      const fh = await open(p, 'r');
      try {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch {
      return undefined;
    }
  };
  const holds = async (p: string) => {
    const buf = await head(p);
    if (!buf?.length) return false;
    return buf.toString('latin1', 0, 5) === 'REDIS' ? rdbHasData(buf) : true; // an AOF of commands
  };
  if ((await holds(join(dir, 'dump.rdb'))) || (await holds(join(dir, 'appendonly.aof')))) return true;
  let files: string[];
  try {
    files = await readdir(join(dir, 'appendonlydir'));
  } catch {
    return false;
  }
  for (const f of files) {
    if (/\.(base\.(rdb|aof)|incr\.aof)$/.test(f) && (await holds(join(dir, 'appendonlydir', f)))) return true;
  }
  return false;
}

/**
 * spec.replicas of the StatefulSet owning this pod: which ordinals will exist. Nothing when the pod has no
 * StatefulSet; `unknown` (with the reason) when it has one that cannot be read (RBAC, API errors): never "gone".
 */
async function setSize(kube: Kube, owner: string | undefined): Promise<{ setSize?: number; setSizeUnknown?: string }> {
  if (!owner) return {};
  try {
    const sts = await kube.apps.readNamespacedStatefulSet({ name: owner, namespace: kube.namespace }, withTimeout());
    return { setSize: sts.spec?.replicas ?? 1 };
  } catch (e) {
    return { setSizeUnknown: `reading StatefulSet ${owner}: ${apiFailure(e).message}` };
  }
}

/** ROLE of each given pod's Redis (those with an IP), by pod name. */
export async function podRoles(pods: PodView[], port: number, o: ProbeOptions): Promise<Record<string, RoleAnswer>> {
  const asked = pods.filter(hasIp).map(async (p) => [p.name, await askRole({ host: p.ip, port }, o)] as const);
  return Object.fromEntries(await Promise.all(asked));
}

/** What every live Sentinel of the set says about it, and how many Sentinels the majority is counted from. */
export async function observeSentinels(
  c: Config,
  kube: Kube,
  redisPods?: PodView[],
): Promise<{ views: SentinelView[]; known: number }> {
  const targets = await sentinelTargets(c, kube, redisPods);
  const views = await Promise.all(targets.addresses.map((s) => askSentinel(s, c.masterSet, probeOptions(c))));
  return { views, known: targets.known };
}

export async function observe(c: Config, kube: Kube, hasData?: boolean): Promise<Observation> {
  const [pods, record, selfHasData, dataBytes] = await Promise.all([
    listPods(kube, c.podSelector),
    readRecord(kube, c.masterRecord),
    hasData ?? dataDirHasData(c.dataDir),
    dataDirBytes(c.dataDir),
  ]);
  const self = pods.find((p) => p.name === c.podName);
  const probe = probeOptions(c);
  const { views: sentinels, known } = await observeSentinels(c, kube, pods);
  const targets = new Map<string, Address>();
  for (const s of sentinels) if (s.master) targets.set(addr(s.master), s.master);
  for (const p of pods.filter(isLive)) targets.set(`${p.ip}:${c.redisPort}`, { host: p.ip, port: c.redisPort });
  const [answers, size] = await Promise.all([
    Promise.all([...targets.values()].map(async (a) => [addr(a), await askRole(a, probe)] as const)),
    setSize(kube, self?.owner),
  ]);
  return {
    self: {
      name: c.podName,
      ip: c.podIp,
      ordinal: self?.ordinal ?? ordinalOf(c.podName),
      hasData: selfHasData,
      dataBytes,
    },
    loadingHandoverBytes: c.loadingHandoverBytes,
    redisPort: c.redisPort,
    quorum: c.quorum,
    pods,
    sentinels,
    knownSentinels: known,
    roles: Object.fromEntries(answers),
    record,
    ...size,
  };
}

/**
 * With the API down: this pod's own Sentinel (a sidecar) and the peers it knows (SENTINEL SENTINELS), what each
 * names, and ROLE of every master they name. No Sentinel at all when the Sentinels are not sidecars.
 */
export async function observeWithoutApi(c: Config, apiError: string): Promise<ApiLessObservation> {
  const probe = probeOptions(c);
  const own: Address = { host: c.podIp, port: c.sentinelPort };
  const base = { apiError, self: { host: c.podIp, port: c.redisPort }, quorum: c.quorum, roles: {} };
  if (!c.sentinelSidecar) return { ...base, sentinels: [], known: 0 };
  const peers = await ask(own, forSentinel(probe), (r) => r.call('SENTINEL', 'SENTINELS', c.masterSet))
    .then((reply) =>
      (reply as unknown[]).map((flat) => {
        const p = pairs(flat);
        return { host: p.ip, port: Number(p.port) };
      }),
    )
    .catch(() => [] as Address[]);
  const sentinels = await Promise.all([own, ...peers].map((s) => askSentinel(s, c.masterSet, probe)));
  const named = new Map<string, Address>();
  for (const v of sentinels) if (v.master) named.set(addr(v.master), v.master);
  const roles = Object.fromEntries(
    await Promise.all([...named.values()].map(async (a) => [addr(a), await askRole(a, probe)] as const)),
  );
  return { ...base, sentinels, known: 1 + peers.length, roles };
}
