// A StatefulSet on one host: each pod has its own loopback address and a data dir that survives restarts, and
// runs the real entrypoints (`launcher run` and `launcher run --sentinel`) as separate processes with the
// production env contract and KUBECONFIG pointing at the stand-in API, where this harness keeps the Pod objects
// as the StatefulSet controller and kubelet would.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { markTerminating, setPodState, statefulSetPod } from './kube/kubelet.ts';
import type { KubeStandin } from './kube/server.ts';
import { startProcess, type Started } from './processes.ts';
import { ask, loopbackAddress } from './redis.ts';
import { waitFor } from './wait.ts';

export const REPO = resolve(import.meta.dirname, '../..');

export type SimPod = { ordinal: number; name: string; ip: string; dir: string; redis?: Started; sentinel?: Started };

export type ClusterOptions = {
  api: KubeStandin;
  root: string;
  namespace?: string;
  sts?: string;
  /** The launcher entry to run: the sources (bin/launcher) or the shipped bundle. */
  launcher?: string;
  env?: Record<string, string>;
  log?: (pod: string, line: string) => void;
};

export class LocalCluster {
  readonly pods = new Map<number, SimPod>();
  readonly api: KubeStandin;
  readonly ns: string;
  readonly sts: string;
  readonly selector: string;
  private kubeconfig = '';
  private readonly opts: ClusterOptions;

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.api = opts.api;
    this.ns = opts.namespace ?? 'redis';
    this.sts = opts.sts ?? 'redis';
    this.selector = `app=${this.sts}`;
    this.api.ensureNamespace(this.ns);
  }

  async init(): Promise<this> {
    this.kubeconfig = await this.api.writeKubeconfig(this.opts.root, { namespace: this.ns });
    this.setReplicas(0);
    return this;
  }

  /** The StatefulSet object, as `kubectl scale` leaves it: spec.replicas is how many ordinals will exist. */
  setReplicas(n: number) {
    const cur = this.api.getObject('statefulsets', this.ns, this.sts);
    this.api.put('statefulsets', {
      metadata: {
        ...(cur?.metadata ?? { name: this.sts, namespace: this.ns }),
        generation: (cur?.metadata.generation ?? 0) + 1,
      },
      spec: {
        replicas: n,
        serviceName: `${this.sts}-headless`,
        selector: { matchLabels: { app: this.sts } },
        podManagementPolicy: 'Parallel',
        template: { metadata: { labels: { app: this.sts } } },
      },
      status: { replicas: this.pods.size, availableReplicas: this.pods.size },
    });
  }

  pod(i: number): SimPod {
    const p = this.pods.get(i);
    if (!p) throw new Error(`no pod ${i}`);
    return p;
  }
  get ordinals(): number[] {
    return [...this.pods.keys()].sort((a, b) => a - b);
  }

  env(p: SimPod): Record<string, string> {
    return {
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      KUBECONFIG: this.kubeconfig,
      POD_NAME: p.name,
      POD_NAMESPACE: this.ns,
      POD_IP: p.ip,
      LISTEN_ADDRESS: p.ip,
      REDIS_POD_SELECTOR: this.selector,
      REDIS_DATA_DIR: join(p.dir, 'data'),
      SENTINEL_DOWN_AFTER_MS: '1000',
      SENTINEL_FAILOVER_TIMEOUT_MS: '5000',
      LAUNCHER_WAIT_TIMEOUT_MS: '60000',
      REDIS_STOP_TIMEOUT_MS: '10000',
      HANDOVER_TIMEOUT_MS: '15000',
      LAUNCHER_RECONCILE_MS: '1000',
      SENTINEL_HYGIENE_MS: '2000',
      ...(this.opts.env ?? {}),
    };
  }

  private launcher(p: SimPod, sentinel: boolean): Started {
    const entry = this.opts.launcher ?? join(REPO, 'bin/launcher');
    const env = { ...this.env(p), REDIS_CONF_DIR: join(p.dir, sentinel ? 'sentinel' : 'conf') };
    const name = `${p.name}${sentinel ? '/sentinel' : ''}`;
    const log = this.opts.log ? (l: string) => this.opts.log!(name, l) : undefined;
    return startProcess(name, process.execPath, [entry, 'run', ...(sentinel ? ['--sentinel'] : [])], {
      env,
      group: true,
      log,
    });
  }

  /** Creates the Pod object (new IP) as the StatefulSet controller and kubelet would, then starts its containers. */
  async startPod(i: number, opts: { newIp?: boolean; ready?: boolean } = {}): Promise<SimPod> {
    const prev = this.pods.get(i);
    const p: SimPod =
      prev && !opts.newIp
        ? prev
        : {
            ordinal: i,
            name: `${this.sts}-${i}`,
            ip: loopbackAddress(),
            dir: prev?.dir ?? join(this.opts.root, `${this.sts}-${i}`),
          };
    this.pods.set(i, p);
    const want = Math.max(...this.pods.keys()) + 1;
    if ((this.api.getObject('statefulsets', this.ns, this.sts)?.spec.replicas ?? 0) < want) this.setReplicas(want);
    await mkdir(join(p.dir, 'data'), { recursive: true });
    if (!this.api.getObject('pods', this.ns, p.name)) {
      this.api.put(
        'pods',
        statefulSetPod({ sts: this.sts, ordinal: i, namespace: this.ns, labels: { app: this.sts } }),
      );
    }
    setPodState(this.api, this.ns, p.name, { phase: 'Running', podIP: p.ip, ready: opts.ready ?? true });
    p.redis = this.launcher(p, false);
    p.sentinel = this.launcher(p, true);
    return p;
  }

  /** What the kubelet's readiness probe does: the pod becomes Ready once its /readyz answers 200. */
  async waitReady(i: number, ms = 60_000): Promise<void> {
    const p = this.pod(i);
    let last = '';
    try {
      await waitFor(
        `${p.name} ready`,
        async () => {
          try {
            const r = await fetch(`http://${p.ip}:8080/readyz`, { signal: AbortSignal.timeout(2000) });
            last = `${r.status} ${(await r.text()).trim()}`;
            return r.status === 200;
          } catch (e) {
            last = String(e);
            return false;
          }
        },
        ms,
        100,
      );
    } catch (e) {
      const logs = [p.redis, p.sentinel].map((s) => `--- ${s?.name} (last lines)\n${s?.tail.join('\n')}`).join('\n');
      throw new Error(`${(e as Error).message}; last /readyz: ${last}\n${logs}`, { cause: e });
    }
    setPodState(this.api, this.ns, p.name, { phase: 'Running', podIP: p.ip, ready: true });
  }

  /** A StatefulSet rolling update: highest ordinal first, each pod recreated and Ready before the next. */
  async rollingRestart(): Promise<void> {
    for (const i of [...this.ordinals].reverse()) {
      await this.recreatePod(i, 'term');
      await this.waitReady(i);
    }
  }

  /** Every Sentinel restarts; with amnesia its config dir is wiped first, so it starts from nothing. */
  async restartSentinels(amnesia: boolean): Promise<void> {
    await Promise.all(
      this.ordinals.map(async (i) => {
        const p = this.pod(i);
        await p.sentinel?.stop(25_000);
        if (amnesia) await rm(join(p.dir, 'sentinel'), { recursive: true, force: true });
        p.sentinel = this.launcher(p, true);
      }),
    );
  }

  /** Scale up: the StatefulSet controller creates the missing ordinals. */
  async scaleTo(n: number): Promise<void> {
    const add = [];
    for (let i = 0; i < n; i++) if (!this.pods.has(i)) add.push(i);
    await Promise.all(add.map((i) => this.startPod(i)));
  }

  async startAll(order?: number[]): Promise<void> {
    await Promise.all((order ?? [0, 1, 2]).map((i) => this.startPod(i)));
  }

  /** SIGKILL every process of the pod (launchers, redis-server, redis-sentinel). The Pod object stays. */
  async killPod(i: number): Promise<void> {
    const p = this.pod(i);
    for (const s of [p.redis, p.sentinel]) s?.signal('SIGKILL');
    await Promise.all([p.redis?.exited, p.sentinel?.exited]);
  }

  /** SIGTERM to each container's PID 1 (the launchers), as the kubelet does; waits for both to exit. */
  async stopPod(i: number): Promise<{ redis?: number; sentinel?: number }> {
    const p = this.pod(i);
    const [r, s] = await Promise.all([p.redis?.stop(25_000), p.sentinel?.stop(25_000)]);
    return { redis: r?.exitCode, sentinel: s?.exitCode };
  }

  /** The pod is deleted (terminating, then gone) and recreated with the same name and a new IP. */
  async recreatePod(i: number, stop: 'kill' | 'term' = 'term'): Promise<SimPod> {
    const p = this.pod(i);
    markTerminating(this.api, this.ns, p.name);
    if (stop === 'kill') await this.killPod(i);
    else await this.stopPod(i);
    this.api.deleteObject('pods', this.ns, p.name);
    return this.startPod(i, { newIp: true, ready: false });
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.ordinals.map((i) => this.stopPod(i)));
  }

  // ---- observers ----

  labels(): Record<string, string | undefined> {
    return Object.fromEntries(
      this.api
        .listObjects('pods', this.ns)
        .filter((o) => o.metadata.labels?.app === this.sts)
        .map((o) => [o.metadata.name, o.metadata.labels?.['redis-role']]),
    );
  }

  labelledMasters(): string[] {
    return Object.entries(this.labels())
      .filter(([, v]) => v === 'master')
      .map(([k]) => k);
  }

  async role(i: number): Promise<string | undefined> {
    const r = (await ask(this.pod(i).ip, 6379, 'ROLE')) as unknown[] | undefined;
    return r?.[0] as string | undefined;
  }

  async roles(): Promise<Record<string, string | undefined>> {
    const out: Record<string, string | undefined> = {};
    for (const i of this.ordinals) out[this.pod(i).name] = await this.role(i);
    return out;
  }

  async sentinelViews(): Promise<(string | undefined)[]> {
    return Promise.all(
      this.ordinals.map(async (i) => {
        const r = (await ask(this.pod(i).ip, 26379, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as
          string[] | null | undefined;
        return r ? `${r[0]}:${r[1]}` : undefined;
      }),
    );
  }

  /**
   * Converged: exactly one Redis answers ROLE master, every pod's label equals its real role, and every Sentinel
   * names that master. Returns the master's pod name.
   */
  async converged(what: string, ms = 30_000): Promise<string> {
    return waitFor(
      what,
      async () => {
        const roles = await this.roles();
        const masters = Object.keys(roles).filter((n) => roles[n] === 'master');
        if (masters.length !== 1) return undefined;
        const labels = this.labels();
        const mIp = [...this.pods.values()].find((p) => p.name === masters[0])!.ip;
        const views = await this.sentinelViews();
        const ok =
          Object.keys(roles).every((n) => labels[n] === (roles[n] === 'master' ? 'master' : 'slave')) &&
          views.every((v) => v === `${mIp}:6379`);
        return ok ? masters[0] : undefined;
      },
      ms,
      100,
    );
  }

  podByIp(ip: string): SimPod | undefined {
    return [...this.pods.values()].find((p) => p.ip === ip);
  }

  /** Runs `launcher role` inside pod i's environment. */
  async launcherRole(i: number, json = false): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
    const p = this.pod(i);
    const r = await execa(
      process.execPath,
      [this.opts.launcher ?? join(REPO, 'bin/launcher'), 'role', ...(json ? ['--json'] : [])],
      { env: { ...this.env(p), REDIS_CONF_DIR: join(p.dir, 'conf') }, reject: false, timeout: 20_000 },
    );
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  }
}

/** Samples the master labels every 50 ms; records any moment with two. */
export function watchMasterLabels(c: LocalCluster, everyMs = 50) {
  const doubles: string[][] = [];
  let samples = 0;
  const timer = setInterval(() => {
    samples++;
    const m = c.labelledMasters();
    if (m.length > 1) doubles.push(m);
  }, everyMs);
  return {
    doubles,
    get samples() {
      return samples;
    },
    stop: () => clearInterval(timer),
  };
}
