// One scaling operation at a time per cluster (`launcher cluster …`, a shard drained as its pods leave by a
// scale-down): the Lease `<set>-cluster-admin`, renewed every 10 s while it runs (an operation that dies frees it
// once it has been seen unchanged for 60 s).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { tryLock, unlock } from '../kube/lock.ts';
import { bootstrapLease } from './lease.ts';

const adminLock = (c: Config) => `${bootstrapLease(c)}-admin`;

/**
 * Runs `fn` holding the admin Lease; tries to take it for up to `waitMs` (0: once). `locked: false` when another
 * holder kept it (nothing ran).
 */
export async function withAdminLock<T>(
  c: Config,
  kube: Kube,
  waitMs: number,
  fn: () => Promise<T>,
): Promise<{ locked: true; value: T } | { locked: false; lock: string }> {
  const lock = adminLock(c);
  const holder = `${c.podName}:${process.pid}`;
  const until = Date.now() + waitMs;
  while ((await tryLock(kube, lock, holder, 60)) === undefined) {
    if (Date.now() >= until) return { locked: false, lock };
    await sleep(Math.min(500, Math.max(1, until - Date.now())));
  }
  const renewing = setInterval(() => void tryLock(kube, lock, holder, 60).catch(() => undefined), 10_000);
  try {
    return { locked: true, value: await fn() };
  } finally {
    clearInterval(renewing);
    await unlock(kube, lock, holder).catch(() => undefined);
  }
}
