// One 3-pod set running the shipped bundle (down-after 1000 ms), measured side by side:
// - kills: SIGKILL of the master pod; kill -> first write acknowledged through the master label, and labels flipped
//   after a majority of the Sentinels switched (at the API write), with every moment of two master labels counted;
// - planned handovers: the master pod deleted gracefully under a Service-style writer; the longest write gap;
// - cold starts: `node -e 0`, launcher-promote (to the warm supervisor), the kubectl-based promote script of
//   test/bench/kubectl-promote.sh, and `launcher role`, each against the same stand-in API.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { LocalCluster, REPO, watchMasterLabels } from '../support/cluster.ts';
import { imageNodeFlags } from '../support/image.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';
import { LabelWriter, ServiceWriter } from '../support/writer.ts';
import { spread, type Spread } from './stats.ts';

export type FailoverResult = {
  killToFirstWriteMs: Spread;
  flipAfterMajorityMs: Spread;
  twoMasterMoments: number;
  lostAcknowledged: number;
  plannedHandoverGapMs: Spread;
  cold: Record<string, Spread>;
  coldRssMiB: Record<string, Spread>;
};

const ord = (name: string) => Number(name.split('-').pop());

async function timed(file: string, args: string[], env: Record<string, string>, runs: number) {
  const ms: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await execa('/usr/bin/time', ['-f', '%M', file, ...args], { env, reject: false, timeout: 30_000 });
    ms.push(performance.now() - t0);
    rss.push(Number(String(r.stderr).trim().split('\n').pop()) / 1024);
    if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  }
  return { ms: spread(ms), rss: spread(rss) };
}

/** The time at which a majority (2 of 3) of the Sentinels answers another master than oldIp, polled every 5 ms. */
function majoritySwitch(c: LocalCluster, oldIp: string, skip: number) {
  const subs = c.ordinals
    .filter((i) => i !== skip)
    .map((i) => {
      const s = new Redis({ host: c.pod(i).ip, port: 26379, retryStrategy: () => null });
      s.on('error', () => {});
      return s;
    });
  let at = 0;
  const poll = setInterval(() => {
    void Promise.all(subs.map((s) => s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster').catch(() => null))).then(
      (answers) => {
        if (!at && answers.filter((a) => Array.isArray(a) && a[0] !== oldIp).length >= 2) at = Date.now();
      },
    );
  }, 5);
  return {
    get at() {
      return at;
    },
    stop() {
      clearInterval(poll);
      subs.forEach((s) => s.disconnect());
    },
  };
}

export async function benchFailover(kills = 5, handovers = 3, runs = 7): Promise<FailoverResult> {
  // kubectl sends no token over plain http (kubernetes/kubectl#744): anonymous requests are let in (as in the sandbox).
  const api = await new KubeStandin({ anonymous: { user: 'system:anonymous' } }).start();
  const root = await mkdtemp(join(tmpdir(), 'rhl-bench-failover-'));
  const bundle = join(REPO, 'image/dist/launcher.mjs');
  try {
    const c = await new LocalCluster({
      api,
      root,
      launcher: bundle,
      entrypoint: [process.execPath, ...imageNodeFlags(), bundle],
      // The kubelet runs the manifests' probes at their real periods: Ready (what a Service needs) comes from them.
      probes: { timeScale: 1 },
      env: { LAUNCHER_RECONCILE_MS: '5000', SENTINEL_HYGIENE_MS: '30000' },
      // BENCH_LOG=<regexp>: the launchers' log lines that match it, with the pod's name.
      ...(process.env.BENCH_LOG
        ? { log: (p: string, l: string) => new RegExp(process.env.BENCH_LOG ?? '').test(l) && console.log(p, l) }
        : {}),
    }).init();
    const settled = async (what: string) => {
      const m = await c.converged(what, 60_000);
      await Promise.all(c.ordinals.map((i) => c.waitReady(i, 60_000)));
      return m;
    };
    await c.startAll();
    let master = await settled('boot');
    const labels = watchMasterLabels(c);
    const toFirstWrite: number[] = [];
    const flips: number[] = [];
    let lost = 0;
    for (let k = 0; k < kills; k++) {
      const mi = ord(master);
      const writer = new LabelWriter(c);
      writer.start();
      await waitFor('writes flow', () => (writer.acked.length > 20 ? true : undefined), 10_000);
      const majority = majoritySwitch(c, c.pod(mi).ip, mi);
      let flippedAt = 0;
      const off = api.store.subscribe((ch) => {
        if (flippedAt || ch.bucket !== 'pods') return;
        const m = c.labelledMasters();
        if (m.length === 1 && m[0] !== master) flippedAt = Date.now();
      });
      const killAt = Date.now();
      await c.killPod(mi);
      await waitFor('majority switched', () => (majority.at ? true : undefined), 30_000, 5);
      await waitFor('label flipped', () => (flippedAt ? true : undefined), 15_000, 5);
      await waitFor('a write after the kill', () => writer.acked.find((a) => a.at > killAt), 30_000, 5);
      off();
      majority.stop();
      // The first write the new master acknowledged (one in flight at the kill may still be acknowledged by the old).
      const oldIp = c.pod(mi).ip;
      const first = await waitFor('a write on the new master', () =>
        writer.acked.find((a) => a.at > killAt && a.ip !== oldIp),
      );
      toFirstWrite.push(first.at - killAt);
      flips.push(flippedAt - majority.at);
      await c.startPod(mi);
      master = await settled(`round ${k}`);
      await writer.stop();
      try {
        await writer.assertAllPresent();
      } catch {
        lost++;
      }
    }

    const gaps: number[] = [];
    if (process.env.BENCH_LOG) {
      let last = '';
      api.store.subscribe((ch) => {
        if (ch.bucket !== 'pods') return;
        const now = c.ordinals.map(
          (i) => `${c.pod(i).name}:${c.labels()[c.pod(i).name] ?? '-'}:${c.isReady(i) ? 'R' : 'n'}`,
        );
        if (now.join(' ') !== last) console.log(new Date().toISOString(), 'pods', (last = now.join(' ')));
      });
    }
    for (let h = 0; h < handovers; h++) {
      const writer = new ServiceWriter(c);
      writer.start();
      await waitFor('writes flow', () => (writer.acked.length > 20 ? true : undefined), 10_000);
      await c.recreatePod(ord(master), 'term');
      master = await settled(`handover ${h}`);
      const n = writer.acked.length;
      await waitFor('writes resumed', () => (writer.acked.length > n + 20 ? true : undefined), 10_000);
      await writer.stop();
      gaps.push(writer.maxGapMs());
      if (process.env.BENCH_LOG) {
        const gapsAt = writer.acked.slice(1).map((a, j) => [writer.acked[j].at, a.at] as const);
        for (const [from, to] of gapsAt.filter(([f, t]) => t - f > 300)) {
          console.log(`handover ${h}: gap ${to - from} ms from ${new Date(from).toISOString()}`);
        }
      }
    }
    labels.stop();

    // Cold starts, with the set up and converged: promote names the current master (nothing to move, exit 0).
    const m = c.pod(ord(master));
    const replica = c.pod(c.ordinals.find((i) => i !== ord(master))!);
    const env = { ...c.env(replica), REDIS_CONF_DIR: join(replica.dir, 'sentinel') };
    const hookArgs = ['mymaster', 'leader', 'start', replica.ip, '6379', m.ip, '6379'];
    const node = process.execPath;
    const script = join(import.meta.dirname, 'kubectl-promote.sh');
    const imageHook = join(REPO, 'image/dist/launcher-promote');
    const kubectlEnv = { ...env, PATH: `${dirname(node)}:/usr/bin:/bin`, NAMESPACE: c.ns, SELECTOR: c.selector };
    const cold: Record<string, Spread> = {};
    const coldRss: Record<string, Spread> = {};
    for (const [name, file, args, e] of [
      ['node -e 0', node, ['-e', '0'], env],
      ["launcher-promote (the image's: sh + redis-cli, to the warm supervisor)", imageHook, hookArgs, env],
      [
        'launcher-promote (bin/: the Node hook, to the warm supervisor)',
        join(REPO, 'bin/launcher-promote'),
        hookArgs,
        env,
      ],
      ['launcher promote (bundle, on its own)', node, [...imageNodeFlags(), bundle, 'promote', '--', ...hookArgs], env],
      [
        'launcher promote (bundle, on its own, no compile cache)',
        node,
        [...imageNodeFlags(), bundle, 'promote', '--', ...hookArgs],
        { ...env, NODE_DISABLE_COMPILE_CACHE: '1' },
      ],
      ['kubectl-based promote script', script, hookArgs, kubectlEnv],
      ['launcher role (bin/)', join(REPO, 'bin/launcher'), ['role'], { ...env, REDIS_CONF_DIR: join(m.dir, 'conf') }],
      ['launcher role (bundle)', node, [bundle, 'role'], { ...env, REDIS_CONF_DIR: join(m.dir, 'conf') }],
      [
        'launcher role (bundle, no compile cache)',
        node,
        [bundle, 'role'],
        { ...env, REDIS_CONF_DIR: join(m.dir, 'conf'), NODE_DISABLE_COMPILE_CACHE: '1' },
      ],
    ] as const) {
      const r = await timed(file, [...args], e, runs);
      cold[name] = r.ms;
      coldRss[name] = r.rss;
    }
    return {
      killToFirstWriteMs: spread(toFirstWrite),
      flipAfterMajorityMs: spread(flips),
      twoMasterMoments: labels.doubles.length,
      lostAcknowledged: lost,
      plannedHandoverGapMs: spread(gaps),
      cold,
      coldRssMiB: coldRss,
    };
  } finally {
    await stopAll();
    await api.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchFailover(Number(process.env.KILLS ?? 5), Number(process.env.HANDOVERS ?? 3))));
  process.exit(0);
}
