// Observe: gather one immutable snapshot of Kubernetes, the Sentinels and the Redis pods. Read-only.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { apiFailure, withTimeout, type Kube } from './kube/api.ts';
import { listPods, sentinelTargets } from './kube/pods.ts';
import { readRecord } from './kube/record.ts';
import { addr, isLive, ordinalOf, type Address, type Observation } from './model.ts';
import { askRole, askSentinel, probeOptions } from './redis.ts';

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

/** Whether Redis has ever written persistence files here (RDB or AOF): what "has data" means. */
export async function dataDirHasData(dir: string): Promise<boolean> {
  const nonEmpty = async (p: string) => {
    try {
      return (await stat(p)).size > 0;
    } catch {
      return false;
    }
  };
  if ((await nonEmpty(join(dir, 'dump.rdb'))) || (await nonEmpty(join(dir, 'appendonly.aof')))) return true;
  try {
    return (await readdir(join(dir, 'appendonlydir'))).length > 0;
  } catch {
    return false;
  }
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

export async function observe(c: Config, kube: Kube, hasData?: boolean): Promise<Observation> {
  const [pods, record, selfHasData, dataBytes] = await Promise.all([
    listPods(kube, c.podSelector),
    readRecord(kube, c.masterRecord),
    hasData ?? dataDirHasData(c.dataDir),
    dataDirBytes(c.dataDir),
  ]);
  const self = pods.find((p) => p.name === c.podName);
  const probe = probeOptions(c);
  const known = await sentinelTargets(c, kube, pods);
  const sentinels = await Promise.all(known.addresses.map((s) => askSentinel(s, c.masterSet, probe)));
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
    knownSentinels: known.known,
    roles: Object.fromEntries(answers),
    record,
    ...size,
  };
}
