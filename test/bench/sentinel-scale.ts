// One dedicated Sentinel group (3 pods running the shipped bundle as the image runs it, the settings' defaults but
// down-after 1000 ms and failover-timeout 5000 ms) serving 1, 10 and 50 sets of 2 Redis pods each. The sets' pods
// run bare redis-server (a master and its replica): what is measured is the Sentinel side, the part the group's
// size changes.
// - steady: RSS and CPU of each Sentinel pod's supervisor and of its redis-sentinel over a window that starts
//   SETTLE_S after every Sentinel monitors every set (the start-up's tail is not steady), and the API requests the
//   group makes;
// - one set fails over (its master SIGKILLed): kill -> the replica labelled master (at the API write), and a
//   majority of the Sentinels switched (their second +switch-master) -> labelled;
// - a node loss: every other set's master SIGKILLed at once: the same per set, and until the last is labelled.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { REPO, type LocalCluster } from '../support/cluster.ts';
import { imageNodeFlags } from '../support/image.ts';
import { setPodState } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll, type Started } from '../support/processes.ts';
import { startRedis } from '../support/redis.ts';
import { sentinelGroup } from '../support/sentinel-group.ts';
import { waitFor } from '../support/wait.ts';
import { childPids, cpuPct, cpuTicks, rssMiB } from './proc.ts';
import { readFile } from 'node:fs/promises';
import { spread, type Spread } from './stats.ts';

export type SentinelScaleResult = {
  sets: number;
  /** From the group's start until every Sentinel monitors every set with its replica and both peers. */
  monitoredAfterMs: number;
  windowS: number;
  /** Per Sentinel pod, at the end of the steady window: the supervisor (Node) and its redis-sentinel. */
  supervisorRssMiB: number[];
  sentinelRssMiB: number[];
  /** Per Sentinel pod, over the steady window, in % of one core. */
  supervisorCpuPct: number[];
  sentinelCpuPct: number[];
  /** Non-watch API requests of the whole group per minute over the window, and what they were. */
  requestsPerMin: number;
  byVerb: Record<string, number>;
  oneSet: { killToLabelMs: number; switchToLabelMs: number };
  /** Every other set's master killed at once (none when there is one set). */
  allSets?: { sets: number; killToLabelMs: Spread; switchToLabelMs: Spread; lastLabelledMs: number };
  /** Moments at which a set had two pods labelled master. */
  twoMasterMoments: number;
};

type BareSet = { set: LocalCluster; master: Started; replica: Started };

const NS = 'redis';
/** From every set monitored to the steady window: the Sentinels' peers finish their own start-up meanwhile. */
const SETTLE_S = 15;
const ROLE = 'redis-role';

function label(api: KubeStandin, name: string, role: string) {
  const o = api.getObject('pods', NS, name)!;
  api.put('pods', { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, [ROLE]: role } } });
}

/** A set of 2 pods, Running and Ready, as their launchers would leave them: set-k-0 master, set-k-1 its replica. */
async function startSet(addSet: (name: string) => Promise<LocalCluster>, api: KubeStandin, k: number) {
  const set = await addSet(`set-${k}`);
  for (const i of [0, 1]) {
    const p = await set.createPendingPod(i);
    setPodState(api, NS, p.name, { phase: 'Running', podIP: p.ip, ready: true });
  }
  const [m, r] = [set.pod(0), set.pod(1)];
  const master = await startRedis({ host: m.ip, dir: join(m.dir, 'data') });
  const replica = await startRedis({ host: r.ip, dir: join(r.dir, 'data'), conf: [`replicaof ${m.ip} 6379`] });
  label(api, m.name, 'master');
  label(api, r.name, 'slave');
  return { set, master, replica } satisfies BareSet;
}

/** Every Sentinel monitors every set, knowing its replica and both other Sentinels. */
async function allMonitored(g: LocalCluster, n: number): Promise<boolean> {
  for (const i of g.ordinals) {
    const s = new Redis({ host: g.pod(i).ip, port: 26379, retryStrategy: () => null, lazyConnect: true });
    s.on('error', () => {});
    try {
      const masters = (await s.call('SENTINEL', 'MASTERS').catch(() => [])) as string[][];
      const ok = masters.filter((m) => {
        const f = Object.fromEntries(m.flatMap((v, j) => (j % 2 ? [] : [[v, m[j + 1]]])));
        return Number(f['num-slaves']) >= 1 && Number(f['num-other-sentinels']) >= 2;
      });
      if (ok.length < n) return false;
    } finally {
      s.disconnect();
    }
  }
  return true;
}

export async function benchSentinelScale(counts = [1, 10, 50], windowS = 30): Promise<SentinelScaleResult[]> {
  const out: SentinelScaleResult[] = [];
  for (const n of counts) out.push(await onePoint(n, windowS));
  return out;
}

/** The supervisor's redis-sentinel: its only child, checked by name. */
async function sentinelChild(supervisor: number): Promise<number> {
  for (const pid of await childPids(supervisor)) {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (/sentinel/.test(comm)) return pid;
  }
  throw new Error(`supervisor ${supervisor} has no redis-sentinel child`);
}

async function onePoint(n: number, windowS: number): Promise<SentinelScaleResult> {
  let counting = false;
  let requests = 0;
  const byVerb: Record<string, number> = {};
  const made = new KubeStandin({
    onRequest: (r) => {
      if (!counting || /[?&]watch=(true|1)/.test(r.url)) return;
      requests++;
      const what = `${r.method} ${r.url.split('?')[0].replace(/\/namespaces\/[^/]+/, '')}`;
      byVerb[what] = (byVerb[what] ?? 0) + 1;
    },
  });
  let api: KubeStandin | undefined;
  let root: string | undefined;
  const subs: Redis[] = [];
  let off = () => {};
  try {
    api = await made.start();
    root = await mkdtemp(join(tmpdir(), 'rhl-bench-sentinel-scale-'));
    const bundle = join(REPO, 'image/dist/launcher.mjs');
    const g = await sentinelGroup(api, root, {
      launcher: bundle,
      entrypoint: [process.execPath, ...imageNodeFlags(), bundle], // as the image runs it
      // BENCH_VERBOSE=1: the Sentinel pods' log lines on stderr.
      log: process.env.BENCH_VERBOSE ? (p, l) => process.stderr.write(`[${p}] ${l}\n`) : undefined,
      // The settings' defaults (not the tests' fast ones), but a fast down-after for the failovers.
      env: {
        LAUNCHER_RECONCILE_MS: '5000',
        SENTINEL_HYGIENE_MS: '30000',
        SENTINEL_DOWN_AFTER_MS: '1000',
        SENTINEL_FAILOVER_TIMEOUT_MS: '5000',
      },
    });
    const sets: BareSet[] = [];
    for (let k = 0; k < n; k++) sets.push(await startSet(g.addSet, api, k));
    const t0 = Date.now();
    await g.sentinels.startAll();
    await waitFor(`3 Sentinels monitor ${n} sets`, () => allMonitored(g.sentinels, n), 60_000 + n * 3000, 500);
    const monitoredAfterMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000)); // the bench's settle time, not a wait for state

    const supervisors = g.sentinels.ordinals.map((i) => g.sentinels.pod(i).sentinel!.pid);
    const sentinelPids = await Promise.all(supervisors.map(sentinelChild));
    const pids = [...supervisors, ...sentinelPids];
    const w0 = Date.now();
    const before = await Promise.all(pids.map(cpuTicks));
    counting = true;
    await new Promise((r) => setTimeout(r, windowS * 1000)); // the measurement window itself, not a wait for state
    counting = false;
    const secs = (Date.now() - w0) / 1000;
    const after = await Promise.all(pids.map(cpuTicks));
    const pct = after.map((a, j) => cpuPct(before[j], a, secs));
    const rss = await Promise.all(pids.map(rssMiB));

    // When each set's replica was labelled master, and when the second Sentinel switched the set.
    const labelledAt = new Map<string, number>();
    let twoMasterMoments = 0;
    const doubled = new Set<string>();
    const store = api;
    off = store.store.subscribe((ch) => {
      if (ch.bucket !== 'pods') return;
      const set = ch.name.replace(/-\d+$/, '');
      // The set's two pods only: listing every pod at each change would load the stand-in the group talks to.
      const both = [0, 1].map((i) => store.getObject('pods', NS, `${set}-${i}`));
      // A moment is counted once, when it begins, however many writes it lasts.
      if (both.filter((o) => o?.metadata.labels?.[ROLE] === 'master').length > 1) {
        if (!doubled.has(set)) twoMasterMoments++;
        doubled.add(set);
      } else doubled.delete(set);
      if (ch.cur?.metadata.labels?.[ROLE] !== 'master') return;
      if (ch.name.endsWith('-1') && !labelledAt.has(set)) labelledAt.set(set, Date.now());
    });
    const switches = new Map<string, number[]>();
    for (const i of g.sentinels.ordinals) {
      const s = new Redis({ host: g.sentinels.pod(i).ip, port: 26379, retryStrategy: () => null });
      s.on('error', () => {});
      subs.push(s);
      await s.subscribe('+switch-master');
      s.on('message', (_ch, msg: string) => {
        const set = msg.split(' ')[0];
        switches.set(set, [...(switches.get(set) ?? []), Date.now()]);
      });
    }
    const relabelled = (names: string[], killedAt: number, what: string, ms: number) =>
      waitFor(what, () => names.every((s) => labelledAt.has(s) && (switches.get(s)?.length ?? 0) >= 2), ms, 20).then(
        () =>
          names.map((s) => ({
            kill: labelledAt.get(s)! - killedAt,
            afterSwitch: labelledAt.get(s)! - switches.get(s)![1],
          })),
      );

    sets[0].master.signal('SIGKILL');
    const k0 = Date.now();
    const [one] = await relabelled(['set-0'], k0, 'set-0 relabelled after its master was killed', 60_000);

    let allSets: SentinelScaleResult['allSets'];
    if (n > 1) {
      const rest = sets.slice(1);
      for (const s of rest) s.master.signal('SIGKILL');
      const k1 = Date.now();
      const names = rest.map((s) => s.set.sts);
      const each = await relabelled(names, k1, `${names.length} sets relabelled after a node loss`, 60_000 + n * 5000);
      allSets = {
        sets: names.length,
        killToLabelMs: spread(each.map((e) => e.kill)),
        switchToLabelMs: spread(each.map((e) => e.afterSwitch)),
        lastLabelledMs: Math.max(...each.map((e) => e.kill)),
      };
    }
    return {
      sets: n,
      monitoredAfterMs,
      windowS: Math.round(secs),
      supervisorRssMiB: rss.slice(0, 3),
      sentinelRssMiB: rss.slice(3),
      supervisorCpuPct: pct.slice(0, 3),
      sentinelCpuPct: pct.slice(3),
      requestsPerMin: Math.round((requests / (secs / 60)) * 10) / 10,
      byVerb,
      oneSet: { killToLabelMs: one.kill, switchToLabelMs: one.afterSwitch },
      allSets,
      twoMasterMoments,
    };
  } finally {
    off();
    for (const s of subs) s.disconnect();
    await stopAll();
    await api?.close();
    if (root) await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const counts = (process.env.SETS ?? '1,10,50').split(',').map(Number);
  console.log(JSON.stringify(await benchSentinelScale(counts, Number(process.env.WINDOW_S ?? 30)), null, 2));
  process.exit(0);
}
