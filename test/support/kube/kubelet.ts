// The harness side of Pods: what the StatefulSet controller and the kubelet write, shaped like real pods.
import { randomUUID } from 'node:crypto';
import type { Obj } from './resources.ts';
import type { KubeStandin } from './server.ts';
import { kubeTime } from './store.ts';

/** One container as the kubelet reports it; unset fields follow the pod's phase and `ready`. */
export type ContainerState = {
  ready?: boolean;
  /** The startup probe passed (or there is none) while running. Default: running. */
  started?: boolean;
  /** Default: running when the pod is Running, else waiting (ContainerCreating). */
  state?: 'running' | 'waiting' | 'terminated';
  /** waiting: ContainerCreating (default), CrashLoopBackOff, ... */
  waitingReason?: string;
  /** terminated (now, or in lastState after a restart): exit code, reason (Error, Completed), signal. */
  terminated?: { exitCode: number; reason: string; signal?: number; startedAt?: string; finishedAt?: string };
  lastTerminated?: { exitCode: number; reason: string; signal?: number; startedAt?: string; finishedAt?: string };
  /** Default: the previous status's count. */
  restartCount?: number;
};

export type PodState = {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  /** Every address (dual stack), podIP first; default: podIP alone. */
  podIPs?: string[];
  /** Pod Ready/ContainersReady; default: every container in `containers` ready (else false). */
  ready?: boolean;
  /** Per container, by name; containers not named get `ready` and the phase's defaults. */
  containers?: Record<string, ContainerState>;
  /** false: not yet bound to a node (PodScheduled False, Unschedulable, no hostIP). Default true. */
  scheduled?: boolean;
};

/** A StatefulSet pod `<sts>-<ordinal>` as the controller creates it (Pending, no IP yet). */
export function statefulSetPod(opts: {
  sts: string;
  ordinal: number;
  namespace: string;
  labels?: Record<string, string>;
  stsUid?: string;
  /** Container names (default just `redis`); `sentinel` gets the Sentinel ports. */
  containers?: string[];
  /** Pod terminationGracePeriodSeconds (default 30, the API's default). */
  terminationGracePeriodSeconds?: number;
}): Obj {
  const ports: Record<string, number[]> = { redis: [6379, 8080], sentinel: [26379, 8081] };
  const name = `${opts.sts}-${opts.ordinal}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace,
      generation: 1,
      labels: {
        ...(opts.labels ?? {}),
        'controller-revision-hash': `${opts.sts}-7d9c5b8f6d`,
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(opts.ordinal),
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: opts.sts,
          uid: opts.stsUid ?? randomUUID(),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: (opts.containers ?? ['redis']).map((c) => ({
        name: c,
        image: 'redis-ha-launcher:dev',
        ports: (opts.containers ? (ports[c] ?? []) : [6379]).map((p) => ({ containerPort: p, protocol: 'TCP' })),
      })),
      terminationGracePeriodSeconds: opts.terminationGracePeriodSeconds ?? 30,
      nodeName: 'node-1',
      hostname: name,
      subdomain: `${opts.sts}-headless`,
      restartPolicy: 'Always',
      serviceAccountName: 'redis-launcher',
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: kubeTime() }],
    },
  };
}

/**
 * The status the kubelet reports for a pod in a given state. Containers are the names in `s.containers`, else those
 * of the previous status, else `names` (the pod's spec), else just `redis`. Conditions keep their
 * lastTransitionTime while their status does not change, as the kubelet's do.
 */
export function podStatus(prev: any, s: PodState, names?: string[]): any {
  const now = kubeTime();
  const phase = s.phase ?? 'Running';
  const running = phase === 'Running';
  const scheduled = s.scheduled ?? true;
  const prevStatuses: any[] = prev?.containerStatuses ?? [];
  const list =
    (s.containers && Object.keys(s.containers).length ? Object.keys(s.containers) : undefined) ??
    (names?.length ? names : undefined) ??
    (prevStatuses.length ? prevStatuses.map((c) => c.name as string) : ['redis']);
  const statuses = list.map((name) => {
    const c = s.containers?.[name] ?? {};
    const before = prevStatuses.find((x) => x.name === name);
    const restartCount = c.restartCount ?? before?.restartCount ?? 0;
    const state = c.state ?? (running ? 'running' : 'waiting');
    const sameRun = before?.state?.running && (before.restartCount ?? 0) === restartCount;
    const startedAt = (sameRun && before.state.running.startedAt) || now;
    const ready = state === 'running' && (c.ready ?? s.ready ?? false);
    const term = (t: NonNullable<ContainerState['terminated']>) => ({
      exitCode: t.exitCode,
      reason: t.reason,
      ...(t.signal ? { signal: t.signal } : {}),
      startedAt: t.startedAt ?? now,
      finishedAt: t.finishedAt ?? now,
      containerID: `containerd://${name}-${restartCount}`,
    });
    return {
      name,
      ready,
      restartCount,
      image: 'redis-ha-launcher:dev',
      imageID: 'sha256:0',
      started: state === 'running' && (c.started ?? true),
      state:
        state === 'running'
          ? { running: { startedAt } }
          : state === 'terminated' && c.terminated
            ? { terminated: term(c.terminated) }
            : { waiting: { reason: c.waitingReason ?? 'ContainerCreating' } },
      lastState: c.lastTerminated ? { terminated: term(c.lastTerminated) } : (before?.lastState ?? {}),
      ...(state !== 'waiting' || restartCount > 0 ? { containerID: `containerd://${name}-${restartCount}` } : {}),
    };
  });
  const ready = s.ready ?? (statuses.length > 0 && statuses.every((c) => c.ready));
  const unready = statuses.filter((c) => !c.ready).map((c) => c.name);
  const prevConds: any[] = prev?.conditions ?? [];
  const cond = (type: string, status: boolean, why?: { reason: string; message: string }) => {
    const st = status ? 'True' : 'False';
    const before = prevConds.find((c) => c.type === type);
    return {
      type,
      status: st,
      lastProbeTime: null,
      lastTransitionTime: before?.status === st ? before.lastTransitionTime : now,
      ...(!status && why ? why : {}),
    };
  };
  const notReady = { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  if (!scheduled) {
    return {
      phase: 'Pending',
      conditions: [
        cond('PodScheduled', false, {
          reason: 'Unschedulable',
          message: '0/1 nodes are available: 1 node(s) had volume node affinity conflict.',
        }),
      ],
    };
  }
  return {
    phase,
    conditions: [
      cond('PodReadyToStartContainers', running),
      cond('Initialized', true),
      cond('Ready', ready, notReady),
      cond('ContainersReady', ready, notReady),
      cond('PodScheduled', true),
    ],
    hostIP: '10.0.0.11',
    hostIPs: [{ ip: '10.0.0.11' }],
    ...(s.podIP ? { podIP: s.podIP, podIPs: (s.podIPs ?? [s.podIP]).map((ip) => ({ ip })) } : {}),
    startTime: prev?.startTime ?? now,
    containerStatuses: statuses,
  };
}

export function setPodState(api: KubeStandin, ns: string, name: string, s: PodState): Obj {
  const pod = api.getObject('pods', ns, name);
  if (!pod) throw new Error(`no pod ${ns}/${name}`);
  const names = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
  return api.put('pods', { ...pod, status: podStatus(pod.status, s, names) });
}

/** Marks a pod terminating as the API does on graceful delete (phase stays, deletionTimestamp set). */
export function markTerminating(api: KubeStandin, ns: string, name: string, graceSeconds = 30): Obj {
  const pod = api.getObject('pods', ns, name)!;
  return api.put('pods', {
    ...pod,
    metadata: { ...pod.metadata, deletionTimestamp: kubeTime(), deletionGracePeriodSeconds: graceSeconds },
  });
}
