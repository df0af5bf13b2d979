// The Kubernetes API as the launcher uses it: one KubeConfig from loadFromDefault(), per-call timeouts,
// and errors reduced to what callers branch on.
import * as k8s from '@kubernetes/client-node';

/** A watched set of objects (kube/watch.ts): its cached items while the watch is up, else undefined. */
export type WatchedItems<T> = { items(): readonly T[] | undefined };

export type Kube = {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  coordination: k8s.CoordinationV1Api;
  namespace: string;
  /** REDIS_HOSTNAMES: a pod's address is its DNS name under this cluster domain (kube/pods.ts podView). */
  dnsDomain?: string;
  /** Watches the supervisors keep (by pod label selector, by Lease name); readers fall back to the API. */
  watched: { pods: Map<string, WatchedItems<k8s.V1Pod>>; leases: Map<string, WatchedItems<k8s.V1Lease>> };
};

export const API_TIMEOUT_MS = 5000;

/** The API as the kubeconfig (or the pod's ServiceAccount) says; no namespace: the current context's, or default. */
export function connectKube(namespace: string, dnsDomain?: string): Kube {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  namespace ||= kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    namespace,
    ...(dnsDomain ? { dnsDomain } : {}),
    watched: { pods: new Map(), leases: new Map() },
  };
}

/** Per-call options: a deadline, optionally composed with other options (e.g. the merge-patch content type). */
export function withTimeout(ms = API_TIMEOUT_MS, opts: k8s.ConfigurationOptions = {}): k8s.ConfigurationOptions {
  return {
    ...opts,
    middleware: [
      ...(opts.middleware ?? []),
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return new k8s.Observable(Promise.resolve(ctx));
        },
        post: (rsp) => new k8s.Observable(Promise.resolve(rsp)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export const mergePatch = () =>
  withTimeout(API_TIMEOUT_MS, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));

export type ApiFailure = { code?: number; reason?: string; message: string };

/** What an API error was: HTTP code and Status reason when the server answered, else a network failure. */
export function apiFailure(e: unknown): ApiFailure {
  if (e instanceof k8s.ApiException) {
    let s: { reason?: string; message?: string } | undefined;
    try {
      s = typeof e.body === 'string' ? JSON.parse(e.body) : (e.body as typeof s);
    } catch {
      /* not JSON */
    }
    const message = s?.message ?? `HTTP ${e.code}`;
    return {
      code: e.code,
      reason: s?.reason ?? (e.code === 401 ? 'Unauthorized' : undefined),
      // kube-apiserver's 403 names the verb, the resource and the namespace; say where to grant it. Its 401 says
      // only "Unauthorized": say what was refused.
      message:
        e.code === 401
          ? 'the API server refused the credentials (401 Unauthorized): check the ServiceAccount token ' +
            '(automountServiceAccountToken) or KUBECONFIG'
          : e.code === 403 && /cannot \w+ resource/.test(message)
            ? `${message}; grant it in the launcher's Role (manifests/base/rbac.yaml)`
            : message,
    };
  }
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return { message: 'the API server did not answer in time' };
  }
  if (err?.message === 'fetch failed') {
    return { message: `the API server is unreachable (${err.cause?.code ?? err.cause?.message ?? 'network error'})` };
  }
  return { message: String(err?.message ?? e) };
}

/** Permanent failures: retrying the same call will not help (authorization, bad request, missing object). */
export const isPermanent = (f: ApiFailure) =>
  f.code !== undefined && [400, 401, 403, 404, 405, 415, 422].includes(f.code);
