// Several Redis StatefulSets watched by one dedicated Sentinel StatefulSet, on one stand-in API: the layout of
// manifests/overlays/dedicated-sentinels. The Sentinels select the sets by a label on the StatefulSets.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { LocalCluster, type ClusterOptions } from './cluster.ts';
import { KubeStandin } from './kube/server.ts';
import { stopAll } from './processes.ts';

export const WATCH_LABEL = 'redis-ha-launcher/sentinels';
export const WATCH_SELECTOR = `${WATCH_LABEL}=shared`;

export type SentinelGroup = {
  api: KubeStandin;
  root: string;
  sentinels: LocalCluster;
  /** A Redis StatefulSet named `name` (its master set too) watched by the group; created when asked. */
  addSet: (name: string, opts?: { annotations?: Record<string, string> }) => Promise<LocalCluster>;
};

export async function testSentinelGroup(
  t: TestContext,
  name: string,
  opts: Partial<Pick<ClusterOptions, 'env' | 'log'>> = {},
): Promise<SentinelGroup> {
  const root = await mkdtemp(join(tmpdir(), `rhl-${name}-`));
  const api = await new KubeStandin().start();
  t.after(async () => {
    await stopAll();
    await api.close();
    await rm(root, { recursive: true, force: true });
  });
  return sentinelGroup(api, root, opts);
}

/** The group on an API and root the caller made (and cleans up): what testSentinelGroup sets up, for benchmarks. */
export async function sentinelGroup(
  api: KubeStandin,
  root: string,
  opts: Partial<Pick<ClusterOptions, 'env' | 'log' | 'launcher' | 'entrypoint'>> = {},
): Promise<SentinelGroup> {
  const common = { api, root, log: opts.log, launcher: opts.launcher, entrypoint: opts.entrypoint };
  const sentinelEnv = { SENTINEL_POD_SELECTOR: 'app=sentinel' };
  const sentinels = await new LocalCluster({
    ...common,
    sts: 'sentinel',
    containers: 'sentinel',
    env: { ...sentinelEnv, SENTINEL_WATCH_SELECTOR: WATCH_SELECTOR, ...opts.env },
  }).init();
  const addSet = (set: string, o: { annotations?: Record<string, string> } = {}) =>
    new LocalCluster({
      ...common,
      sts: set,
      masterSet: set,
      containers: 'redis',
      sentinels,
      env: { ...sentinelEnv, ...opts.env },
      statefulSetMeta: { labels: { [WATCH_LABEL]: 'shared' }, annotations: o.annotations },
    }).init();
  return { api, root, sentinels, addSet };
}
