// The kubelet's share of a pod, for tests that opt in: the probes of manifests/base/statefulset.yaml run against the
// pod's IP as the kubelet runs them, containers are killed and restarted as the kubelet and the container runtime
// do, and the Pod's status (per-container ready/started/restartCount, Ready and ContainersReady) is written
// through the stand-in API from the probe results only. Periods, timeouts, delays, grace periods and restart
// back-off are multiplied by a time scale; thresholds are not.
import { request } from 'node:http';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { execa } from 'execa';
import { kubeTime } from './kube/store.ts';
import { setPodState, type ContainerState } from './kube/kubelet.ts';
import type { KubeStandin } from './kube/server.ts';
import { beforeStopAll, type Started } from './processes.ts';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

/** An httpGet probe with Kubernetes' defaults filled in (seconds, as in the manifest). */
export type Probe = {
  kind: ProbeKind;
  path: string;
  port: number;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
  /** Probe-level grace period for a kill by this probe; unset = the pod's. */
  terminationGracePeriodSeconds?: number;
};

export type ContainerProbes = { name: string; startup?: Probe; liveness?: Probe; readiness?: Probe };
export type PodTemplate = { terminationGracePeriodSeconds: number; containers: ContainerProbes[] };

const MANIFESTS = resolve(import.meta.dirname, '../../manifests');

/** The probe with the API server's defaults: period 10 s, timeout 1 s, failureThreshold 3, successThreshold 1. */
export function withDefaults(kind: ProbeKind, p: any, ports: { name?: string; containerPort: number }[] = []): Probe {
  if (!p.httpGet) throw new Error(`${kind} probe: only httpGet probes are run by this harness`);
  const port =
    typeof p.httpGet.port === 'number' ? p.httpGet.port : ports.find((x) => x.name === p.httpGet.port)?.containerPort;
  if (port === undefined) throw new Error(`${kind} probe: unknown port ${JSON.stringify(p.httpGet.port)}`);
  return {
    kind,
    path: p.httpGet.path ?? '/',
    port,
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    periodSeconds: p.periodSeconds ?? 10,
    timeoutSeconds: p.timeoutSeconds ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
    successThreshold: p.successThreshold ?? 1,
    ...(p.terminationGracePeriodSeconds !== undefined
      ? { terminationGracePeriodSeconds: p.terminationGracePeriodSeconds }
      : {}),
  };
}

/** The pod template of a StatefulSet object (JSON), reduced to what the kubelet needs here. */
export function templateOf(sts: any): PodTemplate {
  const spec = sts.spec.template.spec;
  return {
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
    containers: (spec.containers as any[]).map((c) => ({
      name: c.name,
      ...(c.startupProbe ? { startup: withDefaults('startup', c.startupProbe, c.ports) } : {}),
      ...(c.livenessProbe ? { liveness: withDefaults('liveness', c.livenessProbe, c.ports) } : {}),
      ...(c.readinessProbe ? { readiness: withDefaults('readiness', c.readinessProbe, c.ports) } : {}),
    })),
  };
}

const loaded = new Map<string, Promise<any>>();

/**
 * The StatefulSet of `kubectl kustomize manifests/`, as JSON. The `yaml` package is not installed, so kubectl
 * converts it, offline: `kubectl annotate --local -o json` with a no-op change prints the object it read.
 */
export function manifestStatefulSet(dir = MANIFESTS): Promise<any> {
  let p = loaded.get(dir);
  if (!p) {
    p = (async () => {
      const all = (await execa('kubectl', ['kustomize', dir], { timeout: 20_000 })).stdout;
      const doc = all.split(/^---$/m).find((d) => /^kind: StatefulSet$/m.test(d));
      if (!doc) throw new Error(`no StatefulSet in kubectl kustomize ${dir}`);
      const json = await execa(
        'kubectl',
        ['annotate', '--local', '-f', '-', '-o', 'json', 'redis-ha-launcher.test/none-'],
        { input: doc, timeout: 20_000, env: { KUBECONFIG: '/dev/null' } },
      );
      return JSON.parse(json.stdout);
    })();
    loaded.set(dir, p);
  }
  return p;
}

export async function manifestTemplate(dir = MANIFESTS): Promise<PodTemplate> {
  return templateOf(await manifestStatefulSet(dir));
}

export type ProbeResult = {
  at: number;
  pod: string;
  container: string;
  probe: ProbeKind;
  ok: boolean;
  detail: string;
};
export type Kill = {
  at: number;
  pod: string;
  container: string;
  reason: 'liveness' | 'startup';
  /** SIGKILL was needed after the grace period. */
  graceExpired?: boolean;
  exitCode?: number;
};
export type Restart = {
  at: number;
  pod: string;
  container: string;
  restartCount: number;
  cause: 'liveness' | 'startup' | 'exited' | 'harness';
};
export type ReadinessChange = { at: number; pod: string; container: string; ready: boolean };

/** What the kubelets of a cluster did: every probe result, kills, restarts, readiness changes. */
export class KubeletLog {
  readonly probes: ProbeResult[] = [];
  readonly kills: Kill[] = [];
  readonly restarts: Restart[] = [];
  readonly readiness: ReadinessChange[] = [];
  /** Probe results kept (oldest dropped first). */
  limit = 20_000;
  addProbe(r: ProbeResult) {
    this.probes.push(r);
    if (this.probes.length > this.limit) this.probes.splice(0, this.probes.length - this.limit);
  }
}

/** One httpGet as the kubelet sends it: a new connection, a deadline, success for 200-399. */
export function httpProbe(
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<{ ok: boolean; detail: string }> {
  return new Promise((done) => {
    let settled = false;
    const finish = (ok: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done({ ok, detail });
    };
    const req = request(
      {
        host,
        port,
        path,
        method: 'GET',
        agent: false,
        headers: { 'User-Agent': 'kube-probe/1.32', Accept: '*/*', Connection: 'close' },
      },
      (res) => {
        const code = res.statusCode ?? 0;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 200) body += d;
        });
        res.on('end', () => finish(code >= 200 && code < 400, `HTTP ${code} ${body.trim().slice(0, 120)}`));
        res.on('error', (e) => finish(false, e.message));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(false, `timeout after ${timeoutMs} ms (context deadline exceeded)`);
    }, timeoutMs);
    req.on('error', (e) => finish(false, e.message));
    req.end();
  });
}

export type PodKubeletOptions = {
  api: KubeStandin;
  ns: string;
  pod: string;
  ip: string;
  template: PodTemplate;
  /** Multiplies periods, timeouts, initial delays, grace periods and restart back-off. */
  timeScale: number;
  /** CrashLoopBackOff between restarts (0 before the first, then 10 s doubling to 300 s). Default true. */
  restartBackoff?: boolean;
  log: KubeletLog;
  /** Starts the container's PID 1 (a process-group leader). */
  start: (container: string) => Started;
  /** Told of every (re)start, e.g. to keep SimPod.redis / .sentinel current. */
  onStart?: (container: string, s: Started) => void;
};

type Worker = { probe: Probe; lastOk?: boolean; run: number; onHold: boolean };
type Box = {
  spec: ContainerProbes;
  proc?: Started;
  runId: number;
  startedAt: number;
  state: 'running' | 'waiting' | 'terminated';
  waitingReason?: string;
  started: boolean;
  ready: boolean;
  restartCount: number;
  crashes: number;
  killReason?: 'liveness' | 'startup';
  harnessStop: boolean;
  terminated?: ContainerState['terminated'];
  lastTerminated?: ContainerState['lastTerminated'];
};

/**
 * The kubelet for one pod (one Pod uid): starts its containers, runs their probes, kills and restarts them,
 * and writes the pod's status. `terminate()` is what a pod deletion does to it (liveness and startup probes and
 * restarts stop; readiness goes on until the containers are gone); `stop()` ends it (node gone, or pod deleted).
 */
export class PodKubelet {
  private readonly o: PodKubeletOptions;
  private readonly boxes = new Map<string, Box>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = false;
  private terminating = false;
  private uid?: string;
  private lastWritten = '';
  private unhook = () => {};

  constructor(o: PodKubeletOptions) {
    this.o = o;
    for (const spec of o.template.containers) {
      this.boxes.set(spec.name, {
        spec,
        runId: 0,
        startedAt: 0,
        state: 'waiting',
        started: false,
        ready: false,
        restartCount: 0,
        crashes: 0,
        harnessStop: false,
      });
    }
  }

  get containers(): string[] {
    return [...this.boxes.keys()];
  }

  private ms(seconds: number) {
    return seconds * 1000 * this.o.timeScale;
  }

  /** The pod's grace period in ms (scaled). */
  graceMs(probe?: Probe) {
    return this.ms(probe?.terminationGracePeriodSeconds ?? this.o.template.terminationGracePeriodSeconds);
  }

  /** Starts every container and its probes (the Pod object must exist). */
  start() {
    this.active = true;
    this.unhook = beforeStopAll(() => this.stop());
    this.uid = this.o.api.getObject('pods', this.o.ns, this.o.pod)?.metadata.uid;
    for (const name of this.boxes.keys()) this.run(name);
    this.write();
  }

  /** Pod deletion: no more liveness/startup probes or restarts; readiness probes go on. */
  terminate() {
    this.terminating = true;
  }

  /** Stops probing, restarting and writing status. Processes are left as they are. */
  stop() {
    this.active = false;
    this.unhook();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  process(container: string): Started | undefined {
    return this.boxes.get(container)?.proc;
  }

  /** The harness restarts one container (e.g. restartSentinels): stop it with `graceMs`, run `before`, start it. */
  async restartContainer(name: string, graceMs: number, before?: () => Promise<void>) {
    const b = this.box(name);
    b.harnessStop = true;
    await b.proc?.stopContainer(graceMs);
    await before?.();
    b.harnessStop = false;
    if (!this.active) return;
    this.restart(name, b, b.terminated, 'harness');
  }

  /** Starts the container again, as the kubelet does: lastState, restartCount + 1, recorded. */
  private restart(name: string, b: Box, last: Box['lastTerminated'], cause: Restart['cause']) {
    b.lastTerminated = last;
    b.restartCount++;
    this.o.log.restarts.push({ at: Date.now(), pod: this.o.pod, container: name, restartCount: b.restartCount, cause });
    this.run(name);
    this.write();
  }

  /** Stops one container as the runtime does (SIGTERM to PID 1, SIGKILL to the rest after grace); no restart. */
  async stopContainer(name: string, graceMs: number) {
    const b = this.box(name);
    b.harnessStop = true;
    return b.proc?.stopContainer(graceMs);
  }

  private box(name: string): Box {
    const b = this.boxes.get(name);
    if (!b) throw new Error(`no container ${name} in ${this.o.pod}`);
    return b;
  }

  private later(fn: () => void, ms: number) {
    if (!this.active) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.active) fn();
    }, ms);
    this.timers.add(t);
  }

  private run(name: string) {
    const b = this.box(name);
    const runId = ++b.runId;
    const proc = this.o.start(name);
    b.proc = proc;
    b.startedAt = Date.now();
    b.state = 'running';
    b.started = !b.spec.startup;
    b.ready = false;
    b.killReason = undefined;
    b.terminated = undefined;
    this.o.onStart?.(name, proc);
    void proc.leaderExited.then((r) => this.exited(name, runId, r));
    // The kubelet's probe ticker runs from the pod's start, not the container's: the first probe of a container
    // comes at a random point within one period after it starts.
    for (const probe of [b.spec.startup, b.spec.liveness, b.spec.readiness]) {
      if (!probe) continue;
      const w: Worker = { probe, run: 0, onHold: false };
      this.later(() => this.tick(name, runId, w), Math.random() * this.ms(probe.periodSeconds));
    }
    if (!b.spec.readiness && b.started) b.ready = true;
  }

  /** One probe period of one worker: probe (unless skipped), act on the result, schedule the next. */
  private tick(name: string, runId: number, w: Worker) {
    const b = this.box(name);
    if (!this.active || b.runId !== runId || b.state !== 'running') return;
    const next = () => this.later(() => this.tick(name, runId, w), this.ms(w.probe.periodSeconds));
    const kind = w.probe.kind;
    if (kind === 'startup' && b.started) return; // done: the kubelet reports Success from here on
    if (kind !== 'startup' && !b.started) return next();
    if (kind !== 'readiness' && (this.terminating || w.onHold)) return next();
    if (Date.now() - b.startedAt < this.ms(w.probe.initialDelaySeconds)) return next();
    void (async () => {
      const r = await httpProbe(this.o.ip, w.probe.port, w.probe.path, this.ms(w.probe.timeoutSeconds));
      if (!this.active || b.runId !== runId || b.state !== 'running') return;
      const rec = { at: Date.now(), pod: this.o.pod, container: name, probe: kind, ok: r.ok, detail: r.detail };
      this.o.log.addProbe(rec);
      w.run = w.lastOk === r.ok ? w.run + 1 : 1;
      w.lastOk = r.ok;
      const reached = r.ok ? w.run >= w.probe.successThreshold : w.run >= w.probe.failureThreshold;
      if (reached) this.result(name, b, w, r.ok);
      next();
    })();
  }

  private result(name: string, b: Box, w: Worker, ok: boolean) {
    switch (w.probe.kind) {
      case 'startup':
        if (ok) {
          b.started = true;
          if (!b.spec.readiness) this.setReady(name, b, true);
          this.write();
        } else this.kill(name, b, w, 'startup');
        return;
      case 'liveness':
        if (!ok) this.kill(name, b, w, 'liveness');
        return;
      case 'readiness':
        this.setReady(name, b, ok);
        this.write();
        return;
    }
  }

  private setReady(name: string, b: Box, ready: boolean) {
    if (b.ready === ready) return;
    b.ready = ready;
    this.o.log.readiness.push({ at: Date.now(), pod: this.o.pod, container: name, ready });
  }

  private kill(name: string, b: Box, w: Worker, reason: 'liveness' | 'startup') {
    if (this.terminating || b.killReason) return;
    w.onHold = true;
    w.run = 0;
    b.killReason = reason;
    const kill: Kill = { at: Date.now(), pod: this.o.pod, container: name, reason };
    this.o.log.kills.push(kill);
    void (async () => {
      const r = await b.proc?.stopContainer(this.graceMs(w.probe));
      kill.graceExpired = r?.graceExpired;
      kill.exitCode = r ? exitCodeOf(r) : undefined;
    })();
  }

  private exited(name: string, runId: number, r: { exitCode?: number; signal?: string }) {
    const b = this.box(name);
    if (b.runId !== runId) return;
    b.proc?.signal('SIGKILL'); // whatever is left in the container dies with its PID 1
    const code = exitCodeOf(r);
    const t = { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', finishedAt: kubeTime() };
    b.state = 'terminated';
    b.terminated = t;
    b.started = false;
    if (b.ready) this.setReady(name, b, false);
    if (!this.active) return;
    this.write();
    if (this.terminating || b.harnessStop) return;
    const cause = b.killReason ?? 'exited';
    b.crashes++;
    const backoff =
      this.o.restartBackoff === false || b.crashes === 1 ? 0 : this.ms(Math.min(10 * 2 ** (b.crashes - 2), 300));
    const restart = () => {
      if (this.terminating || b.runId !== runId) return;
      this.restart(name, b, t, cause);
    };
    if (backoff > 0) {
      b.state = 'waiting';
      b.waitingReason = 'CrashLoopBackOff';
      b.lastTerminated = t;
      this.write();
      this.later(restart, backoff);
    } else restart();
  }

  /** Writes the pod's status as the kubelet's status manager does: only on change, only to its own Pod uid. */
  private write() {
    if (!this.active) return;
    const pod = this.o.api.getObject('pods', this.o.ns, this.o.pod);
    if (!pod || pod.metadata.uid !== this.uid) return;
    const containers: Record<string, ContainerState> = {};
    for (const [name, b] of this.boxes) {
      containers[name] = {
        ready: b.ready,
        started: b.started,
        state: b.state,
        restartCount: b.restartCount,
        ...(b.state === 'waiting' ? { waitingReason: b.waitingReason ?? 'ContainerCreating' } : {}),
        ...(b.terminated ? { terminated: b.terminated } : {}),
        ...(b.lastTerminated ? { lastTerminated: b.lastTerminated } : {}),
      };
    }
    const sig = JSON.stringify(containers);
    if (sig === this.lastWritten) return;
    this.lastWritten = sig;
    setPodState(this.o.api, this.o.ns, this.o.pod, { phase: 'Running', podIP: this.o.ip, containers });
  }
}

/** The exit code the runtime reports: the process's own, or 128 + signal number. */
export function exitCodeOf(r: { exitCode?: number; signal?: string }): number {
  if (r.exitCode !== undefined && r.exitCode !== null) return r.exitCode;
  const n = r.signal ? (constants.signals as Record<string, number>)[r.signal] : undefined;
  return n ? 128 + n : 1;
}
