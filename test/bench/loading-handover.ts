// Write outage when a master with a large dataset restarts before the Sentinels notice (container restart, same
// IP): without the loading handover it comes back as master and answers LOADING (Sentinel counts that as alive)
// until its data is loaded; with it, Sentinel fails over to its replica first. Same machine, same run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../support/cluster.ts';
import { fill } from '../support/fill.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';
import { SentinelWriter } from '../support/writer.ts';

export type LoadingResult = {
  mode: string;
  megabytes: number;
  /** From the kill to the first write acknowledged after it. */
  outageMs: number;
  gapMs: number;
  acked: number;
  ackedBefore: number;
  master: string;
};

async function once(mode: 'load as master' | 'hand over first', megabytes: number): Promise<LoadingResult> {
  const api = await new KubeStandin().start();
  const root = await mkdtemp(join(tmpdir(), 'rhl-bench-loading-'));
  let writer: SentinelWriter | undefined;
  try {
    const c = await new LocalCluster({
      api,
      root,
      env: {
        SENTINEL_DOWN_AFTER_MS: '10000',
        SENTINEL_FAILOVER_TIMEOUT_MS: '10000',
        LOADING_HANDOVER_BYTES: mode === 'hand over first' ? String(100e6) : '0',
      },
    }).init();
    await c.startAll();
    const master = await c.converged('boot', 60_000);
    const mi = Number(master.split('-').pop());
    await fill(c.pod(mi).ip, 6379, megabytes);
    const m = connect(c.pod(mi).ip, 6379, { commandTimeout: 120_000 });
    await m.call('WAIT', '2', '120000');
    m.disconnect();
    writer = new SentinelWriter(c);
    writer.start();
    const before = Date.now() + 2000;
    while (Date.now() < before) await new Promise((r) => setTimeout(r, 100)); // a steady stream before the kill
    const killAt = Date.now();
    await c.killPod(mi);
    const killed = Date.now(); // writes acknowledged before this may have been in flight as the kill landed
    await c.startPod(mi);
    const now = await c.converged('after the restart', 180_000);
    const w = writer;
    await waitFor('writes acknowledged again', () => w.acked.some((a) => a.at > killed), 180_000);
    await writer.stop();
    const firstAfter = writer.acked.find((a) => a.at > killed)?.at ?? NaN;
    return {
      mode,
      megabytes,
      outageMs: firstAfter - killAt,
      gapMs: writer.maxGapMs(),
      acked: writer.acked.length,
      ackedBefore: writer.acked.filter((a) => a.at <= killAt).length,
      master: now,
    };
  } finally {
    await writer?.stop();
    await stopAll();
    await api.close();
    await rm(root, { recursive: true, force: true });
  }
}

export async function benchLoadingHandover(megabytes = 200): Promise<LoadingResult[]> {
  return [await once('load as master', megabytes), await once('hand over first', megabytes)];
}
