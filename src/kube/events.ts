// Kubernetes Events on this pod, so `kubectl describe pod` tells the story. Best effort: a failed Event is
// logged and never breaks the launcher.
import { withTimeout, type Kube } from './api.ts';
import { log } from '../log.ts';

export type EventType = 'Normal' | 'Warning';

/** Like kubectl's event names: the time in nanoseconds, hex, plus a little randomness. */
const eventSuffix = (now: Date) =>
  (BigInt(now.getTime()) * 1_000_000n).toString(16) + Math.floor(Math.random() * 0xfff).toString(16);

export async function emitEvent(
  kube: Kube,
  pod: { name: string; uid?: string },
  type: EventType,
  reason: string,
  message: string,
): Promise<void> {
  const now = new Date();
  try {
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
            ...(pod.uid ? { uid: pod.uid } : {}),
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
