// A mutex kept in a coordination.k8s.io/v1 Lease: one holder at a time, for at most its duration (a holder that
// died frees it when the time is up). Taken and given back by compare-and-swap on the Lease's resourceVersion.
import type * as k8s from '@kubernetes/client-node';
import { apiFailure, mergePatch, withTimeout, type Kube } from './api.ts';

/** MicroTime as Kubernetes writes it (six fractional digits). */
export const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readLease(kube: Kube, name: string): Promise<k8s.V1Lease | undefined> {
  try {
    return await kube.coordination.readNamespacedLease({ name, namespace: kube.namespace }, withTimeout());
  } catch (e) {
    if (apiFailure(e).code === 404) return undefined;
    throw e;
  }
}

/** Takes the lock if it is free, expired or already ours. False when another holder has it (or won the race). */
export async function tryLock(kube: Kube, name: string, holder: string, seconds: number): Promise<boolean> {
  const now = new Date();
  const spec = { holderIdentity: holder, renewTime: microTime(now), leaseDurationSeconds: seconds };
  const l = await readLease(kube, name);
  try {
    if (!l) {
      await kube.coordination.createNamespacedLease(
        { namespace: kube.namespace, body: { metadata: { name, namespace: kube.namespace }, spec: spec as never } },
        withTimeout(),
      );
      return true;
    }
    const other = l.spec?.holderIdentity;
    const renewed = l.spec?.renewTime ? new Date(l.spec.renewTime).getTime() : 0;
    const ttl = (l.spec?.leaseDurationSeconds ?? seconds) * 1000;
    if (other && other !== holder && now.getTime() - renewed < ttl) return false;
    await kube.coordination.patchNamespacedLease(
      { name, namespace: kube.namespace, body: { metadata: { resourceVersion: l.metadata?.resourceVersion }, spec } },
      mergePatch(),
    );
    return true;
  } catch (e) {
    if (apiFailure(e).code === 409) return false;
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
 * before each write: it throws once the lock may have expired for the others (a margin before its duration, as
 * measured here), so that a slow holder never writes alongside the next one.
 */
export async function withLock<T>(
  kube: Kube,
  lock: { name: string; holder: string; seconds: number; waitMs: number },
  fn: (inTime: () => void) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + lock.waitMs;
  while (!(await tryLock(kube, lock.name, lock.holder, lock.seconds))) {
    if (Date.now() >= deadline) throw new Error(`the lock ${lock.name} stayed taken for ${lock.waitMs} ms`);
    await sleep(50);
  }
  const held = Date.now();
  const inTime = () => {
    if (Date.now() - held > lock.seconds * 1000 * 0.6) {
      throw new Error(`held the lock ${lock.name} too long to write safely; giving up this turn`);
    }
  };
  try {
    return await fn(inTime);
  } finally {
    await unlock(kube, lock.name, lock.holder).catch(() => {});
  }
}
