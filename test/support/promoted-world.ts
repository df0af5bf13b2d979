// The world promote is run in: 3 pods with real redis-server and redis-sentinel on their own loopback addresses,
// redis-1 master as if Sentinel had just promoted it (redis-0 and redis-2 its replicas), the labels still naming
// redis-0, every Sentinel monitoring `mymaster` with quorum 2. The caller stops the processes (stopAll).
import { join } from 'node:path';
import { setPodState, statefulSetPod } from './kube/kubelet.ts';
import type { KubeStandin } from './kube/server.ts';
import { loopbackAddress, startRedis, startSentinel } from './redis.ts';

export async function startPromotedWorld(api: KubeStandin, root: string, ns: string): Promise<string[]> {
  const ips = [0, 1, 2].map(() => loopbackAddress());
  await startRedis({ host: ips[1], dir: join(root, 'r1') });
  await startRedis({ host: ips[0], dir: join(root, 'r0'), conf: [`replicaof ${ips[1]} 6379`] });
  await startRedis({ host: ips[2], dir: join(root, 'r2'), conf: [`replicaof ${ips[1]} 6379`] });
  for (let i = 0; i < 3; i++) {
    await startSentinel({
      host: ips[i],
      dir: join(root, `s${i}`),
      master: { name: 'mymaster', host: ips[1], port: 6379, quorum: 2 },
    });
    api.put(
      'pods',
      statefulSetPod({
        sts: 'redis',
        ordinal: i,
        namespace: ns,
        labels: { app: 'redis', 'redis-role': i === 0 ? 'master' : 'slave' },
      }),
    );
    setPodState(api, ns, `redis-${i}`, { phase: 'Running', podIP: ips[i], ready: true });
  }
  return ips;
}
