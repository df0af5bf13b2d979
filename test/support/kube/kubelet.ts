// The harness side of Pods: what the StatefulSet controller and the kubelet write, shaped like real pods.
import { randomUUID } from 'node:crypto';
import type { Obj } from './resources.ts';
import type { KubeStandin } from './server.ts';
import { kubeTime } from './store.ts';

export type PodState = {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  ready?: boolean;
};

/** A StatefulSet pod `<sts>-<ordinal>` as the controller creates it (Pending, no IP yet). */
export function statefulSetPod(opts: {
  sts: string;
  ordinal: number;
  namespace: string;
  labels?: Record<string, string>;
  stsUid?: string;
}): Obj {
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
      containers: [
        { name: 'redis', image: 'redis-ha-launcher:dev', ports: [{ containerPort: 6379, protocol: 'TCP' }] },
      ],
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

/** The status the kubelet reports for a pod in a given state. */
export function podStatus(prev: any, s: PodState): any {
  const now = kubeTime();
  const ready = s.ready ?? false;
  const phase = s.phase ?? 'Running';
  const running = phase === 'Running';
  const cond = (type: string, status: boolean) => ({
    type,
    status: status ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: now,
  });
  return {
    phase,
    conditions: [
      cond('PodReadyToStartContainers', running),
      cond('Initialized', true),
      cond('Ready', ready),
      cond('ContainersReady', ready),
      cond('PodScheduled', true),
    ],
    hostIP: '10.0.0.11',
    ...(s.podIP ? { podIP: s.podIP, podIPs: [{ ip: s.podIP }] } : {}),
    startTime: prev?.startTime ?? now,
    containerStatuses: [
      {
        name: 'redis',
        ready,
        restartCount: prev?.containerStatuses?.[0]?.restartCount ?? 0,
        image: 'redis-ha-launcher:dev',
        imageID: 'sha256:0',
        started: running,
        state: running ? { running: { startedAt: now } } : { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
        containerID: 'containerd://0',
      },
    ],
  };
}

export function setPodState(api: KubeStandin, ns: string, name: string, s: PodState): Obj {
  const pod = api.getObject('pods', ns, name);
  if (!pod) throw new Error(`no pod ${ns}/${name}`);
  return api.put('pods', { ...pod, status: podStatus(pod.status, s) });
}

/** Marks a pod terminating as the API does on graceful delete (phase stays, deletionTimestamp set). */
export function markTerminating(api: KubeStandin, ns: string, name: string, graceSeconds = 30): Obj {
  const pod = api.getObject('pods', ns, name)!;
  return api.put('pods', {
    ...pod,
    metadata: { ...pod.metadata, deletionTimestamp: kubeTime(), deletionGracePeriodSeconds: graceSeconds },
  });
}
