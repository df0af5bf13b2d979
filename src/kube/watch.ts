// Watched objects, so that the steady state costs no API requests: a client-node ListWatch (list, then watch from
// that resourceVersion; resume from the last one when the stream ends, relist on 410 Gone) kept alive with backoff
// when it fails. While the watch is up readers get the cached objects; while it is down they get undefined and
// read the API themselves, never a cache that may have gone stale.
import * as k8s from '@kubernetes/client-node';
import { apiFailure, withTimeout, type Kube } from './api.ts';
import { log } from '../runtime/log.ts';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * How long a watch may stay silent before it is taken for dead and reopened. kube-apiserver sends a BOOKMARK on a
 * quiet watch about once a minute; client-node's own 30 s reopened every quiet watch twice a minute (two requests
 * each). A stream cut without a close (a partition) is noticed this late; its cache is then up to that old.
 */
const WATCH_IDLE_MS = 90_000;

/**
 * A watch that ends after timeoutSeconds (as client-go's reflector asks), gets bookmarks to stay resumable, and
 * lets them keep it open (WATCH_IDLE_MS).
 */
class BoundedWatch extends k8s.Watch {
  constructor(config: k8s.KubeConfig) {
    super(config);
    // client-node 2.0 declares it private, with no way to set it; it reads the field at every watch.
    (this as unknown as { requestTimeoutMs: number }).requestTimeoutMs = WATCH_IDLE_MS;
  }

  override watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, obj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // 5 to 10 minutes, spread so that many watchers do not reconnect together.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    return super.watch(path, { ...query, allowWatchBookmarks: true, timeoutSeconds }, callback, done);
  }
}

export class Watched<T extends k8s.KubernetesObject> {
  private readonly lw: k8s.ListWatch<T>;
  private readonly what: string;
  private up = false;
  private stopped = false;
  private failures = 0;
  private retry?: NodeJS.Timeout;
  private attemptFailed = false;

  constructor(
    kube: Kube,
    what: string,
    path: string,
    list: () => Promise<k8s.KubernetesListObject<T>>,
    selectors: { label?: string; field?: string },
  ) {
    this.what = what;
    this.lw = new k8s.ListWatch<T>(path, new BoundedWatch(kube.kc), list, false, selectors.label, selectors.field);
    this.lw.on(k8s.ERROR, (err: unknown) => this.failed(err));
  }

  /** Lists and opens the watch; resolves either way (on failure it keeps retrying in the background). */
  async start(): Promise<this> {
    this.attemptFailed = false;
    await this.lw.start();
    if (!this.attemptFailed && !this.stopped) {
      if (this.failures) log.info(`watching ${this.what} again`);
      this.up = true;
      this.failures = 0;
    }
    return this;
  }

  private failed(err: unknown) {
    this.up = false;
    this.attemptFailed = true;
    if (this.stopped) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures++);
    log.warn(`watch of ${this.what} failed (${apiFailure(err).message}); reading the API, retrying in ${delay} ms`);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.start(), delay);
    this.retry.unref();
  }

  /** The cached objects while the watch is up; undefined while it is not. */
  items(): readonly T[] | undefined {
    return this.up ? this.lw.list() : undefined;
  }

  stop() {
    this.stopped = true;
    this.up = false;
    clearTimeout(this.retry);
    void this.lw.stop();
  }
}

/** The pods a label selector picks, watched. */
export function watchPods(kube: Kube, selector: string): Watched<k8s.V1Pod> {
  return new Watched<k8s.V1Pod>(
    kube,
    `pods ${selector}`,
    `/api/v1/namespaces/${kube.namespace}/pods`,
    () => kube.core.listNamespacedPod({ namespace: kube.namespace, labelSelector: selector }, withTimeout()),
    { label: selector },
  );
}

/** One Lease, watched (an exact metadata.name field selector, which RBAC resourceNames can allow). */
export function watchLease(kube: Kube, name: string): Watched<k8s.V1Lease> {
  const field = `metadata.name=${name}`;
  return new Watched<k8s.V1Lease>(
    kube,
    `Lease ${name}`,
    `/apis/coordination.k8s.io/v1/namespaces/${kube.namespace}/leases`,
    () => kube.coordination.listNamespacedLease({ namespace: kube.namespace, fieldSelector: field }, withTimeout()),
    { field },
  );
}

/**
 * Starts the watches a supervisor reads from: the set's pods, the Sentinels' pods when they are other pods, and
 * (for a Redis pod) the master of record. Returns what stops them.
 */
export function startWatches(
  kube: Kube,
  c: { podSelector: string; sentinelSelector: string; sentinelSidecar: boolean; masterRecord: string },
  opts: { record: boolean },
): () => void {
  const stops: (() => void)[] = [];
  const keep = <T extends k8s.KubernetesObject>(registry: Map<string, unknown>, key: string, w: Watched<T>) => {
    registry.set(key, w);
    void w.start();
    stops.push(() => {
      w.stop();
      registry.delete(key);
    });
  };
  for (const sel of c.sentinelSidecar ? [c.podSelector] : [c.podSelector, c.sentinelSelector]) {
    if (!kube.watched.pods.has(sel)) keep(kube.watched.pods, sel, watchPods(kube, sel));
  }
  if (opts.record && !kube.watched.leases.has(c.masterRecord)) {
    keep(kube.watched.leases, c.masterRecord, watchLease(kube, c.masterRecord));
  }
  return () => stops.forEach((stop) => stop());
}

/** The StatefulSets a label selector picks, watched (a dedicated Sentinel's master sets). */
export function watchStatefulSets(kube: Kube, selector: string): Watched<k8s.V1StatefulSet> {
  return new Watched<k8s.V1StatefulSet>(
    kube,
    `statefulsets ${selector}`,
    `/apis/apps/v1/namespaces/${kube.namespace}/statefulsets`,
    () => kube.apps.listNamespacedStatefulSet({ namespace: kube.namespace, labelSelector: selector }, withTimeout()),
    { label: selector },
  );
}
