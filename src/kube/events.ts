// Kubernetes Events on this pod, so `kubectl describe pod` tells the story. Best effort: a failed Event is
// logged and never breaks the launcher.
import { withTimeout, type Kube } from './api.ts';
import { log } from '../runtime/log.ts';

export type EventType = 'Normal' | 'Warning';

/** Like kubectl's event names: the time in nanoseconds, hex, plus a little randomness. */
const eventSuffix = (now: Date) =>
  (BigInt(now.getTime()) * 1_000_000n).toString(16) + Math.floor(Math.random() * 0xfff).toString(16);

/**
 * The pod's uid, which `kubectl describe pod` selects its Events by (involvedObject.uid). Read each time: Events
 * are rare, and a pod recreated under the same name has a new uid.
 */
async function podUid(kube: Kube, name: string): Promise<string | undefined> {
  const pod = await kube.core.readNamespacedPod({ name, namespace: kube.namespace }, withTimeout(3000));
  return pod.metadata?.uid;
}

async function sendEvent(
  kube: Kube,
  pod: { name: string; uid?: string },
  type: EventType,
  reason: string,
  message: string,
): Promise<void> {
  const now = new Date();
  try {
    const uid = pod.uid ?? (await podUid(kube, pod.name));
    await kube.core.createNamespacedEvent(
      {
        namespace: kube.namespace,
        body: {
          metadata: {
            name: `${pod.name}.${eventSuffix(now)}`,
            namespace: kube.namespace,
          },
          involvedObject: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.name,
            namespace: kube.namespace,
            ...(uid ? { uid } : {}),
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: 'redis-ha-launcher' },
          reportingComponent: 'redis-ha-launcher',
          reportingInstance: pod.name,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      },
      withTimeout(3000),
    );
  } catch (e) {
    log.warn(`could not record event ${reason} on ${pod.name}: ${(e as Error).message?.split('\n')[0]}`);
  }
}

/** How long an exiting launcher waits for Events still being sent: a pod read and a create, each up to 3 s. */
export const EVENTS_AT_EXIT_MS = 6000;

/** Events still being sent: the shutdown path sends some (HandedOver) moments before the process exits. */
const sending = new Set<Promise<void>>();

export function emitEvent(...event: Parameters<typeof sendEvent>): Promise<void> {
  const p = sendEvent(...event).finally(() => sending.delete(p));
  sending.add(p);
  return p;
}

/** Before the process exits: the Events still being sent are given up to `ms` to land (each is best effort). */
export async function eventsSent(ms: number): Promise<void> {
  if (!sending.size) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled([...sending]), new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
