// Decision time and API calls with 3, 100 and 1,000 other pods in the namespace: `launcher role` (observe +
// decide, what every boot does) against a set of 3 whose pods select by label, beside N pods of another app.
// The supervisors' steady cycles make no API call at all (steady.ts); this is the part that still reads.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support/cluster.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { spread, type Spread } from './stats.ts';

export type ScalingResult = { otherPods: number; roleMs: Spread; apiCalls: number };

export async function benchScaling(counts = [3, 100, 1000], runs = 5): Promise<ScalingResult[]> {
  const out: ScalingResult[] = [];
  for (const n of counts) {
    let calls = 0;
    const api = await new KubeStandin({ onRequest: () => calls++ }).start();
    const root = await mkdtemp(join(tmpdir(), 'rhl-bench-scaling-'));
    try {
      const ns = 'redis';
      api.ensureNamespace(ns);
      api.put('statefulsets', {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'redis', namespace: ns },
        spec: { replicas: 3, selector: { matchLabels: { app: 'redis' } }, template: {} },
      });
      for (let i = 0; i < 3; i++) {
        api.put('pods', statefulSetPod({ sts: 'redis', ordinal: i, namespace: ns, labels: { app: 'redis' } }));
        setPodState(api, ns, `redis-${i}`, { phase: 'Running', podIP: `127.99.0.${i + 1}`, ready: true });
      }
      for (let i = 0; i < n; i++) {
        api.put('pods', statefulSetPod({ sts: 'other', ordinal: i, namespace: ns, labels: { app: 'other' } }));
        setPodState(api, ns, `other-${i}`, { phase: 'Running', podIP: `127.98.${i >> 8}.${i & 255}`, ready: true });
      }
      const kubeconfig = await api.writeKubeconfig(root, { namespace: ns });
      const env = {
        KUBECONFIG: kubeconfig,
        POD_NAME: 'redis-0',
        POD_NAMESPACE: ns,
        POD_IP: '127.99.0.1',
        REDIS_POD_SELECTOR: 'app=redis',
        REDIS_DATA_DIR: root,
        REDIS_CONF_DIR: root,
        PROBE_TIMEOUT_MS: '300',
      };
      const ms: number[] = [];
      calls = 0;
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        await execa(process.execPath, [join(REPO, 'image/dist/launcher.mjs'), 'role', '--json'], {
          env,
          reject: false,
          timeout: 30_000,
        });
        ms.push(performance.now() - t0);
      }
      out.push({ otherPods: n, roleMs: spread(ms), apiCalls: calls / runs });
    } finally {
      await api.close();
      await rm(root, { recursive: true, force: true });
    }
  }
  return out;
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchScaling()));
  process.exit(0);
}
