// Steady state of a 3-pod set running the shipped bundle with the manifest's probes at their real periods and the
// settings' defaults: RSS and CPU of each supervising process, and the API requests each pod makes per minute
// (watches counted apart). One run per variant of Node flags, side by side.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster, REPO } from '../support/cluster.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { anonMiB, cpuPct, cpuTicks, rssMiB } from './proc.ts';

export type SteadyResult = {
  variant: string;
  nodeFlags: string[];
  windowS: number;
  /** Per supervising process: VmRSS at the end of the window, and of that the private (anonymous) part. */
  rssMiB: { redis: number[]; sentinel: number[] };
  anonMiB: { redis: number[]; sentinel: number[] };
  /** Per supervising process: user+system CPU over the window, in % of one core. */
  cpuPct: { redis: number[]; sentinel: number[] };
  /** Non-watch API requests per pod per minute over the window; watches opened in the window. */
  requestsPerPodMin: number;
  watchesOpened: number;
  byVerb: Record<string, number>;
};

export async function benchSteady(
  variant: string,
  nodeFlags: string[],
  windowS = 60,
  env: Record<string, string> = {},
): Promise<SteadyResult> {
  let counting = false;
  let requests = 0;
  let watches = 0;
  const byVerb: Record<string, number> = {};
  const api = await new KubeStandin({
    onRequest: (r) => {
      if (!counting) return;
      const watch = /[?&]watch=(true|1)/.test(r.url);
      if (watch) watches++;
      else requests++;
      const what = `${watch ? 'WATCH' : r.method} ${r.url.split('?')[0].replace(/\/namespaces\/[^/]+/, '')}`;
      byVerb[what] = (byVerb[what] ?? 0) + 1;
    },
  }).start();
  const root = await mkdtemp(join(tmpdir(), 'rhl-bench-steady-'));
  try {
    const bundle = join(REPO, 'image/dist/launcher.mjs');
    const c = await new LocalCluster({
      api,
      root,
      launcher: bundle,
      entrypoint: [process.execPath, ...nodeFlags, bundle],
      probes: { timeScale: 1 },
      // The settings' defaults, not the tests' fast ones.
      env: { LAUNCHER_RECONCILE_MS: '5000', SENTINEL_HYGIENE_MS: '30000', SENTINEL_DOWN_AFTER_MS: '5000', ...env },
    }).init();
    await c.startAll();
    await c.converged('boot', 120_000);
    for (const i of c.ordinals) await c.waitReady(i, 60_000);
    const pids = (k: 'redis' | 'sentinel') => c.ordinals.map((i) => c.pod(i)[k]?.pid ?? 0);
    const t0 = Date.now();
    const before = await Promise.all([...pids('redis'), ...pids('sentinel')].map(cpuTicks));
    counting = true;
    await new Promise((r) => setTimeout(r, windowS * 1000)); // the measurement window itself, not a wait for state
    counting = false;
    const secs = (Date.now() - t0) / 1000;
    const after = await Promise.all([...pids('redis'), ...pids('sentinel')].map(cpuTicks));
    const pct = after.map((a, j) => cpuPct(before[j], a, secs));
    const n = c.ordinals.length;
    return {
      variant,
      nodeFlags,
      windowS: Math.round(secs),
      rssMiB: {
        redis: await Promise.all(pids('redis').map(rssMiB)),
        sentinel: await Promise.all(pids('sentinel').map(rssMiB)),
      },
      anonMiB: {
        redis: await Promise.all(pids('redis').map(anonMiB)),
        sentinel: await Promise.all(pids('sentinel').map(anonMiB)),
      },
      cpuPct: { redis: pct.slice(0, n), sentinel: pct.slice(n) },
      requestsPerPodMin: Math.round((requests / n / (secs / 60)) * 10) / 10,
      watchesOpened: watches,
      byVerb,
    };
  } finally {
    await stopAll();
    await api.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const flags = process.argv.slice(2);
  console.log(
    JSON.stringify(await benchSteady(flags.join(' ') || 'default', flags, Number(process.env.WINDOW_S ?? 60))),
  );
  process.exit(0);
}
