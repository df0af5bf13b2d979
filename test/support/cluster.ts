// A StatefulSet on one host: each pod has its own loopback address and a data dir that survives restarts, and
// runs the real entrypoints (`launcher run` and `launcher run --sentinel`) as separate processes with the
// production env contract and KUBECONFIG pointing at the stand-in API, where this harness keeps the Pod objects
// as the StatefulSet controller and kubelet would.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { TestContext } from 'node:test';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { DATA_ANNOTATION } from '../../src/kube/pods.ts';
import { markTerminating, setPodState, statefulSetPod } from './kube/kubelet.ts';
import { KubeStandin, type Fault } from './kube/server.ts';
import type { Host, Network } from './netns.ts';
import { KubeletLog, manifestTemplate, PodKubelet, type PodTemplate } from './probes.ts';
import { launcherGrants } from './manifests.ts';
import { startProcess, stopAll, type Started } from './processes.ts';
import { askWith, loopbackAddress } from './redis.ts';
import { waitFor } from './wait.ts';

export const REPO = resolve(import.meta.dirname, '../..');

export type SimPod = {
  ordinal: number;
  name: string;
  ip: string;
  dir: string;
  redis?: Started;
  sentinel?: Started;
  /** With `probes`: the kubelet of the pod's current incarnation. */
  kubelet?: PodKubelet;
  /** With `network`: the network namespace of the pod's current incarnation. */
  host?: Host;
};

/** How a pod's containers are stopped: the legacy 25 s, the manifest's terminationGracePeriodSeconds, or ms. */
export type Grace = 'manifest' | number;

export type ClusterOptions = {
  api: KubeStandin;
  root: string;
  namespace?: string;
  sts?: string;
  /** The launcher entry to run: the sources (bin/launcher) or the shipped bundle. */
  launcher?: string;
  /**
   * The container's command line up to the launcher's arguments, as the image runs it (e.g. tini, '--', node,
   * the bundle): the process started, and signalled as PID 1, is its first word. Default: node and `launcher`.
   */
  entrypoint?: string[];
  env?: Record<string, string>;
  log?: (pod: string, line: string) => void;
  /**
   * Run the kubelet's probes from manifests/base/statefulset.yaml against each pod (see probes.ts): readiness then
   * comes only from the readiness probes, failing liveness/startup probes kill and restart containers, exited
   * containers are restarted, and pod stops use the manifest's grace period. `timeScale` multiplies every period,
   * timeout, delay, grace period and back-off (thresholds stay); `restartBackoff: false` restarts without
   * CrashLoopBackOff.
   */
  probes?: { timeScale?: number; restartBackoff?: boolean };
  /**
   * The manifests whose StatefulSet's pod template the kubelet runs (probes, grace period), relative to
   * manifests/: e.g. 'overlays/cluster'. Default: manifests/ itself (the base pod, both containers).
   */
  manifests?: string;
  /** Time scale of manifest durations (the grace period) when probes are off. Default 1. */
  timeScale?: number;
  /**
   * The launchers authenticate as the ServiceAccount of the manifests, with exactly the Role of
   * manifests/base/rbac.yaml, or of the overlay named (e.g. 'overlays/cluster'), not as an all-powerful user: a
   * missing or an extra grant shows.
   */
  rbacFromManifests?: boolean | string;
  /**
   * Each pod in its own network namespace on this network (a new one, with a new address, per incarnation), its
   * processes run inside it, and the stand-in API must listen on the network's gateway. Default: loopback
   * addresses in the test's own namespace.
   */
  network?: Network;
  /** With `network`: a new pod's names resolve only this long after it got its address (the cluster DNS lags). */
  dnsLagMs?: number;
  /** The password of the set (REDIS_PASSWORD_FILE's): the harness's own reads use it (asked each time: rotation). */
  password?: string | (() => string);
  /** ioredis TLS options when the set speaks TLS only (REDIS_TLS_DIR), asked for at each read (files rotate). */
  tls?: () => object;
  /**
   * The pods' containers: both (a Sentinel sidecar, the default), only Redis (its Sentinels are `sentinels`), or
   * only Sentinel (a dedicated Sentinel StatefulSet). With `probes`, the containers of the manifest's pod.
   */
  containers?: 'both' | 'redis' | 'sentinel';
  /** Where this set's Sentinels run when they are not sidecars. */
  sentinels?: LocalCluster;
  /** The set's master-set name (REDIS_MASTER_SET), default mymaster. */
  masterSet?: string;
  /**
   * Where the scheduler puts pod i: its node, and that node's zone, which the pod then carries as the label
   * topology.kubernetes.io/zone (as Kubernetes' PodTopologyLabels admission writes it at binding). Default: every
   * pod on node-1, no zone.
   */
  placement?: (ordinal: number) => { node: string; zone?: string };
  /** Labels and annotations of the StatefulSet object (e.g. what a dedicated Sentinel's watch selects). */
  statefulSetMeta?: { labels?: Record<string, string>; annotations?: Record<string, string> };
};

const CONTAINERS = { both: ['redis', 'sentinel'], redis: ['redis'], sentinel: ['sentinel'] };

export class LocalCluster {
  readonly pods = new Map<number, SimPod>();
  readonly api: KubeStandin;
  readonly ns: string;
  readonly sts: string;
  readonly selector: string;
  readonly masterSet: string;
  private kubeconfig = '';
  private readonly opts: ClusterOptions;
  /** Settings of one pod's containers beside the cluster's (a pod rolled to another engine, say), by ordinal. */
  readonly podEnv = new Map<number, Record<string, string>>();
  private template?: PodTemplate;
  /** With `probes`: every probe result, kill, restart and readiness change of every pod. */
  readonly kubelet = new KubeletLog();

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.api = opts.api;
    this.ns = opts.namespace ?? 'redis';
    this.sts = opts.sts ?? 'redis';
    this.selector = `app=${this.sts}`;
    this.masterSet = opts.masterSet ?? 'mymaster';
    this.api.ensureNamespace(this.ns);
  }

  async init(): Promise<this> {
    if (this.opts.network && this.api.host !== this.opts.network.gateway) {
      throw new Error(`with a network the stand-in API must listen on its gateway ${this.opts.network.gateway}`);
    }
    let token: string | undefined;
    if (this.opts.rbacFromManifests) {
      token = `launcher-${this.ns}`;
      this.api.tokens[token] = {
        user: `system:serviceaccount:${this.ns}:redis-launcher`,
        grants: await launcherGrants(
          typeof this.opts.rbacFromManifests === 'string' ? this.opts.rbacFromManifests : undefined,
        ),
      };
    }
    this.kubeconfig = await this.api.writeKubeconfig(this.opts.root, { namespace: this.ns, token });
    if (this.opts.probes) {
      const template = await this.podTemplate();
      const want = CONTAINERS[this.opts.containers ?? 'both'];
      const has = template.containers.map((x) => x.name);
      if (has.join() !== want.join()) {
        throw new Error(
          `probes run the manifest's pod, whose containers are ${has.join(', ')}, not ${want.join(', ')}`,
        );
      }
    }
    this.setReplicas(0);
    return this;
  }

  get probing(): boolean {
    return Boolean(this.opts.probes);
  }

  /** The multiplier applied to the manifest's durations. */
  get timeScale(): number {
    return this.opts.probes?.timeScale ?? this.opts.timeScale ?? 1;
  }

  /** The pod template of the manifests' StatefulSet (probes, terminationGracePeriodSeconds). */
  async podTemplate(): Promise<PodTemplate> {
    this.template ??= await manifestTemplate(
      this.opts.manifests ? join(REPO, 'manifests', this.opts.manifests) : undefined,
    );
    return this.template;
  }

  /** The manifest's terminationGracePeriodSeconds in ms, scaled by timeScale. */
  async terminationGraceMs(): Promise<number> {
    return (await this.podTemplate()).terminationGracePeriodSeconds * 1000 * this.timeScale;
  }

  private async graceMs(grace: Grace | undefined): Promise<number> {
    if (grace === undefined) return this.probing ? this.terminationGraceMs() : 25_000;
    return grace === 'manifest' ? this.terminationGraceMs() : grace;
  }

  /** The API path of pod i, e.g. for fault rules. */
  podPath(i: number): string {
    return `/api/v1/namespaces/${this.ns}/pods/${this.sts}-${i}`;
  }

  /**
   * The `redis-ha-launcher/data` annotation of pod i arrives late: each PATCH of that pod carrying the annotation
   * reaches the API `ms` later (held before it is applied, and answered after). `times` such PATCHes (default all).
   */
  delayDataAnnotation(i: number, ms: number, times?: number): Fault {
    return this.api.faults.add({
      method: 'PATCH',
      path: this.podPath(i),
      body: JSON.stringify(DATA_ANNOTATION),
      delayMs: ms,
      delayWhen: 'request',
      ...(times !== undefined ? { times } : {}),
    });
  }

  /** The StatefulSet object, as `kubectl scale` leaves it: spec.replicas is how many ordinals will exist. */
  setReplicas(n: number) {
    const cur = this.api.getObject('statefulsets', this.ns, this.sts);
    this.api.put('statefulsets', {
      metadata: {
        ...(cur?.metadata ?? { name: this.sts, namespace: this.ns, ...this.opts.statefulSetMeta }),
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
      ...(this.opts.masterSet ? { REDIS_MASTER_SET: this.opts.masterSet } : {}),
      ...(this.opts.env ?? {}),
      ...(this.podEnv.get(p.ordinal) ?? {}),
    };
  }

  private launcher(p: SimPod, sentinel: boolean): Started {
    const entry = this.opts.launcher ?? join(REPO, 'bin/launcher');
    const env = { ...this.env(p), REDIS_CONF_DIR: join(p.dir, sentinel ? 'sentinel' : 'conf') };
    const name = `${p.name}${sentinel ? '/sentinel' : ''}`;
    const log = this.opts.log ? (l: string) => this.opts.log!(name, l) : undefined;
    const command = [
      ...(this.opts.entrypoint ?? [process.execPath, entry]),
      'run',
      ...(sentinel ? ['--sentinel'] : []),
    ];
    const [file, ...args] = p.host && this.opts.network ? [...this.opts.network.exec(p.host), ...command] : command;
    return startProcess(name, file, args, {
      env,
      group: true,
      log,
    });
  }

  /** The SimPod for ordinal i (a new IP unless kept), the StatefulSet's replicas and the data dir. */
  private async claim(i: number, newIp: boolean | undefined): Promise<SimPod> {
    const prev = this.pods.get(i);
    const p: SimPod =
      prev && !newIp
        ? prev
        : {
            ordinal: i,
            name: `${this.sts}-${i}`,
            ip: '',
            dir: prev?.dir ?? join(this.opts.root, `${this.sts}-${i}`),
          };
    if (!p.ip) {
      const name = `${this.sts}-${i}`;
      p.host = this.opts.network?.add(name, `${name}.${this.sts}-headless.${this.ns}.svc.cluster.local`, {
        dnsLagMs: this.opts.dnsLagMs,
      });
      p.ip = p.host?.ip ?? loopbackAddress();
    }
    this.pods.set(i, p);
    const want = Math.max(...this.pods.keys()) + 1;
    if ((this.api.getObject('statefulsets', this.ns, this.sts)?.spec.replicas ?? 0) < want) this.setReplicas(want);
    await mkdir(join(p.dir, 'data'), { recursive: true });
    return p;
  }

  /** The scheduler binds the pod to its node (`placement`), and the node's zone becomes a label of the pod. */
  private bind(p: SimPod) {
    const pod = this.api.getObject('pods', this.ns, p.name)!;
    const at = this.opts.placement?.(p.ordinal) ?? { node: 'node-1' };
    const labels = { ...pod.metadata.labels, ...(at.zone ? { 'topology.kubernetes.io/zone': at.zone } : {}) };
    this.api.put('pods', { ...pod, metadata: { ...pod.metadata, labels }, spec: { ...pod.spec, nodeName: at.node } });
  }

  /** The Pod object as the StatefulSet controller creates it (Pending, no IP), if it does not exist yet. */
  private ensurePodObject(p: SimPod) {
    if (this.api.getObject('pods', this.ns, p.name)) return;
    this.api.put(
      'pods',
      statefulSetPod({
        sts: this.sts,
        ordinal: p.ordinal,
        namespace: this.ns,
        labels: { app: this.sts },
        containers: CONTAINERS[this.opts.containers ?? 'both'],
        terminationGracePeriodSeconds: this.template?.terminationGracePeriodSeconds ?? 45,
      }),
    );
    if (this.opts.placement) this.bind(p);
  }

  /**
   * The Pod object exists but its containers do not run: Pending without a podIP, as while a volume attaches
   * (scheduled, containers ContainerCreating) or, with `unscheduled`, before the scheduler binds it. startPod(i)
   * later runs it (with the IP chosen here unless newIp).
   */
  async createPendingPod(i: number, opts: { newIp?: boolean; unscheduled?: boolean } = {}): Promise<SimPod> {
    const p = await this.claim(i, opts.newIp);
    this.ensurePodObject(p);
    const pod = this.api.getObject('pods', this.ns, p.name)!;
    if (opts.unscheduled) {
      const { nodeName: _n, ...spec } = pod.spec;
      this.api.put('pods', { ...pod, spec });
    }
    setPodState(this.api, this.ns, p.name, { phase: 'Pending', scheduled: !opts.unscheduled });
    return p;
  }

  /**
   * Creates the Pod object (new IP) as the StatefulSet controller and kubelet would, then starts its containers.
   * A pod left Pending by createPendingPod is bound (if unscheduled), gets its IP and runs. With `probes`, the pod
   * starts unready and `ready` is ignored: readiness comes from the readiness probes only.
   */
  async startPod(i: number, opts: { newIp?: boolean; ready?: boolean } = {}): Promise<SimPod> {
    const p = await this.claim(i, opts.newIp);
    this.ensurePodObject(p);
    const pod = this.api.getObject('pods', this.ns, p.name)!;
    if (!pod.spec.nodeName) this.bind(p);
    if (this.opts.probes) {
      p.kubelet?.stop();
      const template = await this.podTemplate();
      p.kubelet = new PodKubelet({
        api: this.api,
        ns: this.ns,
        pod: p.name,
        ip: p.ip,
        template,
        timeScale: this.timeScale,
        restartBackoff: this.opts.probes.restartBackoff,
        log: this.kubelet,
        start: (container) => this.launcher(p, container === 'sentinel'),
        onStart: (container, s) => {
          if (container === 'sentinel') p.sentinel = s;
          else p.redis = s;
        },
      });
      p.kubelet.start();
      return p;
    }
    const podIPs = p.host?.ips;
    setPodState(this.api, this.ns, p.name, { phase: 'Running', podIP: p.ip, podIPs, ready: opts.ready ?? true });
    const runs = this.opts.containers ?? 'both';
    if (runs !== 'sentinel') p.redis = this.launcher(p, false);
    if (runs !== 'redis') p.sentinel = this.launcher(p, true);
    return p;
  }

  /** The Pod object's Ready condition is True. */
  isReady(i: number): boolean {
    const pod = this.api.getObject('pods', this.ns, this.pod(i).name);
    return pod?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false;
  }

  /**
   * What the kubelet's readiness probe does: the pod becomes Ready once its /readyz answers 200. With `probes`,
   * waits until the readiness probes have made the Pod Ready (this sets nothing).
   */
  async waitReady(i: number, ms = 60_000): Promise<void> {
    const p = this.pod(i);
    if (this.opts.probes) {
      try {
        await waitFor(`${p.name} Ready (readiness probes)`, () => this.isReady(i), ms, 50);
      } catch (e) {
        const probes = this.kubelet.probes.filter((r) => r.pod === p.name).slice(-4);
        const last = probes.map((r) => `${r.container} ${r.probe} ${r.ok ? 'ok' : 'fail'}: ${r.detail}`).join('; ');
        const logs = [p.redis, p.sentinel].map((s) => `--- ${s?.name} (last lines)\n${s?.tail.join('\n')}`).join('\n');
        throw new Error(`${(e as Error).message}; last probes: ${last}\n${logs}`, { cause: e });
      }
      return;
    }
    let last = '';
    try {
      await waitFor(
        `${p.name} ready`,
        async () => {
          try {
            const host = p.ip.includes(':') ? `[${p.ip}]` : p.ip;
            const port = this.opts.containers === 'sentinel' ? 8081 : 8080;
            const r = await fetch(`http://${host}:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
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
    setPodState(this.api, this.ns, p.name, { phase: 'Running', podIP: p.ip, podIPs: p.host?.ips, ready: true });
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
        const wipe = async () => {
          if (amnesia) await rm(join(p.dir, 'sentinel'), { recursive: true, force: true });
        };
        if (p.kubelet) {
          await p.kubelet.restartContainer('sentinel', await this.terminationGraceMs(), wipe);
          return;
        }
        if (!p.sentinel) return;
        await p.sentinel.stop(25_000);
        await wipe();
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

  /**
   * Scale down as the StatefulSet controller does: spec.replicas first, then the highest ordinal first, each pod
   * terminating (SIGTERM, grace period) and deleted before the next; its data dir stays (the PVC is kept). With
   * `parallel` (podManagementPolicy: Parallel, as the manifests set it), every pod that goes terminates at once.
   */
  async scaleDown(n: number, opts: { parallel?: boolean } = {}): Promise<void> {
    this.setReplicas(n);
    const remove = async (i: number) => {
      const p = this.pod(i);
      markTerminating(this.api, this.ns, p.name);
      await this.stopPod(i);
      this.api.deleteObject('pods', this.ns, p.name);
      if (p.host) this.opts.network?.remove(p.host);
      this.pods.delete(i);
    };
    const going = [...this.ordinals].reverse().filter((o) => o >= n);
    if (opts.parallel) await Promise.all(going.map(remove));
    else for (const i of going) await remove(i);
    this.setReplicas(n);
  }

  /** Starts the pods (default 0, 1, 2); the ordinals in `pending` are only created, Pending (createPendingPod). */
  async startAll(order?: number[], opts: { pending?: number[]; unscheduled?: boolean } = {}): Promise<void> {
    await Promise.all(
      (order ?? [0, 1, 2]).map((i) =>
        opts.pending?.includes(i) ? this.createPendingPod(i, { unscheduled: opts.unscheduled }) : this.startPod(i),
      ),
    );
  }

  /**
   * SIGKILL every process of the pod (launchers, redis-server, redis-sentinel) at once, as when its node dies.
   * The Pod object stays as it was (a dead node reports nothing); with probes, its kubelet stops too.
   */
  async killPod(i: number): Promise<void> {
    const p = this.pod(i);
    p.kubelet?.stop();
    for (const s of [p.redis, p.sentinel]) s?.signal('SIGKILL');
    await Promise.all([p.redis?.exited, p.sentinel?.exited]);
  }

  /**
   * SIGTERM to each container's PID 1 (the launchers), as the kubelet does; waits for both to exit. Without
   * `grace` (and without probes) SIGKILL follows after 25 s, as before. With `grace` ('manifest': the manifest's
   * terminationGracePeriodSeconds scaled by timeScale, or ms) or with probes (default 'manifest'), it is the
   * container runtime's stop: SIGKILL to every process left in the container after the grace period, and to
   * whatever is left once PID 1 exits. `graceExpired` names the containers that needed SIGKILL.
   */
  async stopPod(
    i: number,
    opts: { grace?: Grace } = {},
  ): Promise<{ redis?: number; sentinel?: number; graceExpired?: string[] }> {
    const p = this.pod(i);
    if (opts.grace === undefined && !this.probing) {
      const [r, s] = await Promise.all([p.redis?.stop(25_000), p.sentinel?.stop(25_000)]);
      return { redis: r?.exitCode, sentinel: s?.exitCode };
    }
    const ms = await this.graceMs(opts.grace);
    p.kubelet?.terminate();
    const [r, s] = await Promise.all([p.redis?.stopContainer(ms), p.sentinel?.stopContainer(ms)]);
    p.kubelet?.stop();
    const graceExpired = [r?.graceExpired ? 'redis' : '', s?.graceExpired ? 'sentinel' : ''].filter(Boolean);
    return { redis: r?.exitCode, sentinel: s?.exitCode, graceExpired };
  }

  /**
   * The pod is deleted (terminating, then gone) and recreated with the same name and a new IP. `grace` as for
   * stopPod (also the deletionGracePeriodSeconds written); `pending`: the new pod stays Pending (createPendingPod);
   * `lostVolume`: its volume is lost with it (a new, empty one: the node died with its local disk).
   */
  async recreatePod(
    i: number,
    stop: 'kill' | 'term' = 'term',
    opts: { grace?: Grace; pending?: boolean; unscheduled?: boolean; lostVolume?: boolean } = {},
  ): Promise<SimPod> {
    const p = this.pod(i);
    const realistic = opts.grace !== undefined || this.probing;
    const seconds = realistic ? Math.ceil((await this.graceMs(opts.grace)) / 1000) : undefined;
    markTerminating(this.api, this.ns, p.name, seconds);
    if (stop === 'kill') await this.killPod(i);
    else await this.stopPod(i, { grace: opts.grace });
    this.api.deleteObject('pods', this.ns, p.name);
    if (opts.lostVolume) {
      await rm(join(p.dir, 'data'), { recursive: true, force: true });
      await mkdir(join(p.dir, 'data'), { recursive: true });
    }
    if (opts.pending) return this.createPendingPod(i, { newIp: true, unscheduled: opts.unscheduled });
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

  private get auth() {
    const pw = this.opts.password;
    return { password: typeof pw === 'function' ? pw() : pw, tls: this.opts.tls?.() };
  }

  async role(i: number): Promise<string | undefined> {
    const r = (await askWith(this.auth, this.pod(i).ip, 6379, 'ROLE')) as unknown[] | undefined;
    return r?.[0] as string | undefined;
  }

  async roles(): Promise<Record<string, string | undefined>> {
    const out: Record<string, string | undefined> = {};
    for (const i of this.ordinals) out[this.pod(i).name] = await this.role(i);
    return out;
  }

  /** What each Sentinel of the set (its sidecars, or the `sentinels` pods) names as this set's master. */
  async sentinelViews(): Promise<(string | undefined)[]> {
    const where = this.opts.sentinels ?? this;
    return Promise.all(
      where.ordinals.map(async (i) => {
        const r = (await askWith(
          this.auth,
          where.pod(i).ip,
          26379,
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          this.masterSet,
        )) as string[] | null | undefined;
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
        const m = [...this.pods.values()].find((p) => p.name === masters[0])!;
        // By IP, or with REDIS_HOSTNAMES by the pod's DNS name.
        const named = [`${m.ip}:6379`, `${m.host?.fqdn}:6379`];
        const views = await this.sentinelViews();
        const ok =
          Object.keys(roles).every((n) => labels[n] === (roles[n] === 'master' ? 'master' : 'slave')) &&
          views.every((v) => v !== undefined && named.includes(v));
        return ok ? masters[0] : undefined;
      },
      ms,
      100,
    );
  }

  /** Waits until exactly one pod, another than `old`, is labelled master; its name. */
  async relabelledFrom(old: string, ms = 30_000, what = 'another pod labelled master'): Promise<string> {
    return waitFor(
      what,
      () => {
        const l = this.labelledMasters();
        return l.length === 1 && l[0] !== old ? l[0] : undefined;
      },
      ms,
    );
  }

  /** converged(), then every pod Ready (by its readiness probes when they run); the master's name. */
  async settled(what: string, ms = 60_000): Promise<string> {
    const m = await this.converged(what, ms);
    await Promise.all(this.ordinals.map((i) => this.waitReady(i, ms)));
    return m;
  }

  podByIp(ip: string): SimPod | undefined {
    return [...this.pods.values()].find((p) => p.ip === ip);
  }

  /** Runs a launcher command (e.g. `cluster add-shard …`) in pod i's environment, as `kubectl exec` would. */
  async launcherCommand(i: number, args: string[]): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
    const p = this.pod(i);
    const r = await execa(process.execPath, [this.opts.launcher ?? join(REPO, 'bin/launcher'), ...args], {
      env: { ...this.env(p), REDIS_CONF_DIR: join(p.dir, 'conf') },
      reject: false,
      timeout: 120_000,
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /**
   * `launcher status` in pod i until it says healthy (exit 0): it is a snapshot, and a replica still in its first
   * sync is reported (its link is down). On the deadline, fails with the last output.
   */
  async statusHealthy(i: number, ms = 30_000): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
    let last = await this.launcherCommand(i, ['status']);
    const deadline = Date.now() + ms;
    while (last.exitCode !== 0) {
      if (Date.now() > deadline) {
        throw new Error(`launcher status not healthy within ${ms} ms:\n${last.stdout}${last.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 500));
      last = await this.launcherCommand(i, ['status']);
    }
    return last;
  }

  /** Runs `launcher role` inside pod i's environment. */
  async launcherRole(
    i: number,
    json = false,
    env: Record<string, string> = {},
  ): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
    const p = this.pod(i);
    const r = await execa(
      process.execPath,
      [this.opts.launcher ?? join(REPO, 'bin/launcher'), 'role', ...(json ? ['--json'] : [])],
      { env: { ...this.env(p), REDIS_CONF_DIR: join(p.dir, 'conf'), ...env }, reject: false, timeout: 20_000 },
    );
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  }
}

/** The pods of a namespace labelled redis-role=master (optionally only those with label app=<app>). */
export function masterLabelled(api: KubeStandin, ns: string, app?: string): string[] {
  return api
    .listObjects('pods', ns)
    .filter(
      (o) => (app === undefined || o.metadata.labels?.app === app) && o.metadata.labels?.['redis-role'] === 'master',
    )
    .map((o) => o.metadata.name);
}

/**
 * Checks the master labels at every write to a pod in the API (not by sampling, which can miss a short window);
 * records every write after which two pods were labelled master.
 */
export function watchMasterLabelsIn(api: KubeStandin, ns: string, app?: string) {
  const doubles: string[][] = [];
  let samples = 0;
  const off = api.store.subscribe((ch) => {
    if (ch.bucket !== 'pods') return;
    samples++;
    const m = masterLabelled(api, ns, app);
    if (m.length > 1) doubles.push(m);
  });
  return {
    doubles,
    /** How many pod writes were checked. */
    get samples() {
      return samples;
    },
    stop: off,
  };
}

/** A `log` option that keeps every line of every launcher ("[pod] line"), and prints it too with TEST_VERBOSE. */
export function keptLog(): { lines: string[]; log: (pod: string, line: string) => void } {
  const lines: string[] = [];
  return {
    lines,
    log: (pod, line) => {
      lines.push(`[${pod}] ${line}`);
      if (process.env.TEST_VERBOSE) process.stderr.write(`[${pod}] ${line}\n`);
    },
  };
}

/** watchMasterLabelsIn for the cluster's own pods. */
export const watchMasterLabels = (c: LocalCluster) => watchMasterLabelsIn(c.api, c.ns, c.sts);

/**
 * A LocalCluster of its own for one test: a stand-in API, a temporary root, launcher logs with TEST_VERBOSE; every
 * process stopped, the API closed and the root removed after the test, also when it fails. `options` may depend on
 * the root (e.g. a script written there first).
 */
export async function testCluster(
  t: TestContext,
  name: string,
  options: Partial<ClusterOptions> | ((root: string) => Promise<Partial<ClusterOptions>>) = {},
): Promise<{ api: KubeStandin; root: string; c: LocalCluster }> {
  const root = await mkdtemp(join(tmpdir(), `rhl-${name}-`));
  const made: { api?: KubeStandin; network?: Network } = {};
  t.after(async () => {
    await stopAll();
    await made.network?.close();
    await made.api?.close();
    await rm(root, { recursive: true, force: true });
  });
  const extra = typeof options === 'function' ? await options(root) : options;
  made.network = extra.network;
  const api = await new KubeStandin().start({ host: extra.network?.gateway });
  made.api = api;
  const log = process.env.TEST_VERBOSE ? (p: string, l: string) => process.stderr.write(`[${p}] ${l}\n`) : undefined;
  const c = await new LocalCluster({ log, ...extra, api, root }).init();
  return { api, root, c };
}
