// A mutex kept in a coordination.k8s.io/v1 Lease: one holder at a time, for at most its duration (a holder that
// died frees it when the time is up). Taken and given back by compare-and-swap on the Lease's resourceVersion.
import { setTimeout as sleep } from 'node:timers/promises';
import { apiFailure, mergePatch, withTimeout, type Kube } from './api.ts';
import { readLease as readLeaseOrNull } from './leases.ts';

/** MicroTime as Kubernetes writes it (six fractional digits). */
export const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z');

const readLease = async (kube: Kube, name: string) => (await readLeaseOrNull(kube, name)) ?? undefined;

/**
 * When this process first saw each Lease's current version (monotonic ms), keyed by Lease name. Expiry is judged
 * the way client-go's leader election judges it: a holder's time runs out once this process has seen the same
 * version of the Lease for the whole duration on its own clock. Another node's renewTime is never compared with
 * the local clock, so clock skew between nodes cannot make two holders.
 */
const observed = new Map<string, { version: string; at: number }>();

function seenUnchangedFor(name: string, version: string, now: number): number {
  const o = observed.get(name);
  if (o?.version === version) return now - o.at;
  observed.set(name, { version, at: now });
  return 0;
}

/**
 * Takes the lock if it is free, expired (seen unchanged for its duration), already ours, or held by a holder that
 * `holderGone` knows cannot act any more (its pod deleted, or recreated under the same name: a process that is gone
 * holds nothing). Returns the monotonic time taken just before the acquiring write (the holder's time runs from
 * there: others may see the write as soon as it is applied, however late its answer comes), or undefined when
 * another holder has it or won the race.
 */
export async function tryLock(
  kube: Kube,
  name: string,
  holder: string,
  seconds: number,
  holderGone?: (other: string) => boolean,
): Promise<number | undefined> {
  const l = await readLease(kube, name);
  const started = performance.now();
  const spec = { holderIdentity: holder, renewTime: microTime(new Date()), leaseDurationSeconds: seconds };
  try {
    if (!l) {
      await kube.coordination.createNamespacedLease(
        { namespace: kube.namespace, body: { metadata: { name, namespace: kube.namespace }, spec: spec as never } },
        withTimeout(),
      );
      return started;
    }
    const other = l.spec?.holderIdentity;
    const ttl = (l.spec?.leaseDurationSeconds ?? seconds) * 1000;
    const seen = seenUnchangedFor(name, l.metadata?.resourceVersion ?? '', started);
    if (other && other !== holder && seen < ttl && !holderGone?.(other)) return undefined;
    await kube.coordination.patchNamespacedLease(
      { name, namespace: kube.namespace, body: { metadata: { resourceVersion: l.metadata?.resourceVersion }, spec } },
      mergePatch(),
    );
    return started;
  } catch (e) {
    if (apiFailure(e).code === 409) return undefined;
    throw e;
  }
}

/** Gives the lock back if we still hold it (not if it expired and another holder took it). */
export async function unlock(kube: Kube, name: string, holder: string): Promise<void> {
  const l = await readLease(kube, name);
  if (l?.spec?.holderIdentity !== holder) return;
  try {
    await kube.coordination.patchNamespacedLease(
      {
        name,
        namespace: kube.namespace,
        body: { metadata: { resourceVersion: l.metadata?.resourceVersion }, spec: { holderIdentity: null } },
      },
      mergePatch(),
    );
  } catch (e) {
    if (apiFailure(e).code !== 409) throw e;
  }
}

/**
 * Runs fn holding the lock, waiting up to waitMs for it; throws when it stays taken. fn gets `inTime()`, to call
 * before each write: it throws once the lock may have expired for the others (a margin before its duration,
 * counted from just before the acquiring write), so that a slow holder never writes alongside the next one. A
 * holder that died is passed over once it has been seen unchanged for its duration, so waitMs should exceed that.
 */
export async function withLock<T>(
  kube: Kube,
  lock: { name: string; holder: string; seconds: number; waitMs: number },
  fn: (inTime: () => void) => Promise<T>,
): Promise<T> {
  const deadline = performance.now() + lock.waitMs;
  let held: number | undefined;
  while ((held = await tryLock(kube, lock.name, lock.holder, lock.seconds)) === undefined) {
    if (performance.now() >= deadline) throw new Error(`the lock ${lock.name} stayed taken for ${lock.waitMs} ms`);
    await sleep(50);
  }
  const since = held;
  const inTime = () => {
    if (performance.now() - since > lock.seconds * 1000 * 0.6) {
      throw new Error(`held the lock ${lock.name} too long to write safely; giving up this turn`);
    }
  };
  try {
    return await fn(inTime);
  } finally {
    await unlock(kube, lock.name, lock.holder).catch(() => {});
  }
}
