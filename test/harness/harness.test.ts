// The harness produces, on purpose, what a real cluster does: API faults and slow replies as kube-apiserver sends
// them, Pods Pending without an IP, late data annotations, kubelet probes from the manifests (kills, restarts,
// readiness), a Service-like client, and container-runtime signals. Most of it without Redis.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { LocalCluster } from '../support/cluster.ts';
import { call } from '../support/kube/client.ts';
import { markTerminating, setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { KubeletLog, manifestTemplate, PodKubelet, type PodTemplate } from '../support/probes.ts';
import { startProcess, stopAll } from '../support/processes.ts';
import { loopbackAddress, startRedis } from '../support/redis.ts';
import { tempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { LabelWriter, ServiceWriter, serviceEndpoints } from '../support/writer.ts';

const NS = 'redis';
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
after(() => stopAll());

async function standin(t: TestContext) {
  const api = await new KubeStandin().start();
  t.after(() => api.close());
  const dir = await tempDir(t);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(await api.writeKubeconfig(dir, { namespace: NS }));
  const c = await new LocalCluster({ api, root: dir, namespace: NS }).init();
  return { api, dir, c, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
}

const pod = (api: KubeStandin, name: string) => api.getObject('pods', NS, name)!;
const cond = (p: any, type: string) => p.status?.conditions?.find((c: any) => c.type === type);
const containerStatus = (p: any, name: string) => p.status?.containerStatuses?.find((c: any) => c.name === name);

describe('API faults', () => {
  test('403 three times on GET statefulsets: client-node raises ApiException with the Status; then OK', async (t) => {
    const { api, apps } = await standin(t);
    const f = api.faults.add({
      method: 'GET',
      path: /\/apis\/apps\/v1\/namespaces\/[^/]+\/statefulsets\//,
      status: 403,
      times: 3,
    });
    for (let n = 0; n < 3; n++) {
      await assert.rejects(apps.readNamespacedStatefulSet({ name: 'redis', namespace: NS }), (e: any) => {
        assert.ok(e instanceof k8s.ApiException, String(e));
        assert.equal(e.code, 403);
        const body = JSON.parse(e.body);
        assert.deepEqual(body, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message:
            'statefulsets.apps "redis" is forbidden: User "system:admin" cannot get resource "statefulsets" in API ' +
            'group "apps" in the namespace "redis"',
          reason: 'Forbidden',
          details: { name: 'redis', group: 'apps', kind: 'statefulsets' },
          code: 403,
        });
        return true;
      });
    }
    const sts = await apps.readNamespacedStatefulSet({ name: 'redis', namespace: NS });
    assert.equal(sts.spec?.replicas, 0);
    assert.equal(f.hits, 3);
    assert.equal(f.seen, 4, 'the fourth GET matched but was let through');
    assert.ok(f.spent);
  });

  test('500, 503, 429, 504, 409 bodies and headers are kube-apiserver Status; remove and clear', async (t) => {
    const { api, c } = await standin(t);
    await c.createPendingPod(0);
    const path = `/api/v1/namespaces/${NS}/pods/redis-0`;
    const want: Record<number, [string, string]> = {
      500: ['InternalError', 'Internal error occurred: injected fault'],
      503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
      429: ['TooManyRequests', 'Too many requests, please try again later.'],
      504: ['Timeout', 'Timeout: request did not complete within requested timeout - context deadline exceeded'],
      409: [
        'Conflict',
        'Operation cannot be fulfilled on pods "redis-0": the object has been modified; please apply your changes ' +
          'to the latest version and try again',
      ],
    };
    for (const [code, [reason, message]] of Object.entries(want)) {
      const f = api.faults.add({ method: 'PATCH', path, status: Number(code) });
      const rv = pod(api, 'redis-0').metadata.resourceVersion;
      const r = await call(api, 'PATCH', path, {
        body: { metadata: { labels: { x: 'y' } } },
        contentType: 'application/merge-patch+json',
      });
      assert.equal(r.status, Number(code));
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.equal(r.json.kind, 'Status');
      assert.equal(r.json.apiVersion, 'v1');
      assert.equal(r.json.status, 'Failure');
      assert.equal(r.json.reason, reason);
      assert.equal(r.json.message, message);
      assert.equal(r.json.code, Number(code));
      if (code === '429' || code === '503') assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(pod(api, 'redis-0').metadata.resourceVersion, rv, 'a rejected write is not applied');
      f.remove();
    }
    api.faults.add({ path, status: 500, reason: 'InternalError', message: 'etcdserver: request timed out' });
    api.faults.add({ path, status: 503 });
    const r = await call(api, 'GET', path);
    assert.equal(r.json.message, 'etcdserver: request timed out', 'the first matching rule acts');
    assert.equal(api.faults.list[1].seen, 1, 'a later rule still counts what matched it');
    api.faults.clear();
    assert.equal((await call(api, 'GET', path)).status, 200);
  });

  test('a delayed write is applied at once, answered late (default); delayWhen request applies it late', async (t) => {
    const { api, c, core } = await standin(t);
    await c.createPendingPod(0);
    const applied: { label: string; at: number }[] = [];
    const off = api.store.subscribe((ch) => {
      const v = ch.cur?.metadata.labels?.step;
      if (ch.bucket === 'pods' && v && ch.prev?.metadata.labels?.step !== v) applied.push({ label: v, at: Date.now() });
    });
    t.after(off);
    for (const when of ['reply', 'request'] as const) {
      const f = api.faults.add({ method: 'PATCH', path: c.podPath(0), delayMs: 800, delayWhen: when, times: 1 });
      const t0 = Date.now();
      const patch = core.patchNamespacedPod(
        { name: 'redis-0', namespace: NS, body: { metadata: { labels: { step: when } } } },
        merge,
      );
      await waitFor('the PATCH reached the stand-in', () => f.hits === 1, 2000, 5);
      let answeredAt = 0;
      await patch.then(() => (answeredAt = Date.now()));
      const at = applied.find((a) => a.label === when)?.at;
      assert.ok(at, `the ${when} PATCH was applied`);
      assert.ok(answeredAt - t0 >= 790, `answered after the delay (${answeredAt - t0} ms)`);
      if (when === 'reply') assert.ok(at - t0 < 400, `applied at once (${at - t0} ms), answered ${answeredAt - t0} ms`);
      else assert.ok(at - t0 >= 790, `applied only after the delay (${at - t0} ms)`);
    }
  });

  test('late data annotation: the PATCH carrying redis-ha-launcher/data waits, other PATCHes do not', async (t) => {
    const { api, c, core } = await standin(t);
    await c.createPendingPod(1);
    const f = c.delayDataAnnotation(1, 1000);
    const t0 = Date.now();
    const annotate = core.patchNamespacedPod(
      { name: 'redis-1', namespace: NS, body: { metadata: { annotations: { 'redis-ha-launcher/data': 'present' } } } },
      merge,
    );
    await waitFor('the annotation PATCH arrived', () => f.hits === 1, 2000, 5);
    await core.patchNamespacedPod(
      { name: 'redis-1', namespace: NS, body: { metadata: { labels: { 'redis-role': 'slave' } } } },
      merge,
    );
    const now = pod(api, 'redis-1');
    assert.equal(now.metadata.labels?.['redis-role'], 'slave', 'the label PATCH went through at once');
    assert.equal(now.metadata.annotations?.['redis-ha-launcher/data'], undefined, 'the annotation is not there yet');
    await annotate;
    assert.ok(Date.now() - t0 >= 990);
    assert.equal(pod(api, 'redis-1').metadata.annotations?.['redis-ha-launcher/data'], 'present');
    assert.equal(f.seen, 1);
  });
});

describe('pods Pending without an IP', () => {
  test('createPendingPod: in the API, Pending, no podIP, containers not started; unscheduled variant', async (t) => {
    const { api, c } = await standin(t);
    await c.startAll([0, 1], { pending: [0, 1] });
    await c.createPendingPod(2, { unscheduled: true });
    assert.equal(api.getObject('statefulsets', NS, 'redis')!.spec.replicas, 3);
    for (const name of ['redis-0', 'redis-1']) {
      const p = pod(api, name);
      assert.equal(p.status.phase, 'Pending');
      assert.equal(p.status.podIP, undefined);
      assert.equal(cond(p, 'PodScheduled').status, 'True');
      assert.equal(cond(p, 'Ready').status, 'False');
      assert.equal(cond(p, 'Ready').reason, 'ContainersNotReady');
      assert.deepEqual(
        p.status.containerStatuses.map((s: any) => [s.name, s.ready, s.started, s.state.waiting?.reason]),
        [
          ['redis', false, false, 'ContainerCreating'],
          ['sentinel', false, false, 'ContainerCreating'],
        ],
      );
      assert.equal(c.pod(Number(name.slice(-1))).redis, undefined, 'no container process');
    }
    const u = pod(api, 'redis-2');
    assert.equal(u.spec.nodeName, undefined);
    assert.deepEqual(
      u.status.conditions.map((x: any) => [x.type, x.status, x.reason]),
      [['PodScheduled', 'False', 'Unschedulable']],
    );
    assert.equal(u.status.hostIP, undefined);
    assert.equal(u.status.containerStatuses, undefined);
  });
});

describe('signals as a container runtime delivers them', () => {
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  // PID 1 of the "container" traps TERM (records it; `exit` decides whether it stops), with a child that also
  // records TERM: only PID 1 may get it.
  const container = (out: string, exitOnTerm: boolean) =>
    startProcess(
      'fake-container',
      'sh',
      [
        '-c',
        `trap 'echo leader >> "$OUT"${exitOnTerm ? '; exit 0' : ''}' TERM
         ( trap 'echo child >> "$OUT"' TERM; while :; do sleep 0.05; done ) &
         echo $! > "$OUT.child"
         while :; do sleep 0.05; done`,
      ],
      { env: { OUT: out }, group: true },
    );

  test('SIGTERM to PID 1 only; SIGKILL to the whole group after the grace period', async (t) => {
    const out = join(await tempDir(t), 'signals');
    const s = container(out, false);
    const child = Number(
      await waitFor('child pid', () => existsSync(`${out}.child`) && readFileSync(`${out}.child`, 'utf8').trim()),
    );
    const t0 = Date.now();
    const r = await s.stopContainer(700);
    assert.ok(Date.now() - t0 >= 690, 'waited the grace period');
    assert.equal(r.graceExpired, true);
    assert.equal(r.signal, 'SIGKILL');
    await waitFor('the child is gone', () => !alive(child), 2000);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), ['leader']);
  });

  test('when PID 1 exits on SIGTERM, what is left in the container is killed at once', async (t) => {
    const out = join(await tempDir(t), 'signals');
    const s = container(out, true);
    const child = Number(
      await waitFor('child pid', () => existsSync(`${out}.child`) && readFileSync(`${out}.child`, 'utf8').trim()),
    );
    const t0 = Date.now();
    const r = await s.stopContainer(5000);
    assert.ok(Date.now() - t0 < 2000, 'no wait for the grace period');
    assert.equal(r.graceExpired, false);
    assert.equal(r.exitCode, 0);
    await waitFor('the child is gone', () => !alive(child), 2000);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), ['leader']);
  });
});

describe('kubelet probes from the manifests', () => {
  test('the manifest probes with Kubernetes defaults, and the scaled grace period', async (t) => {
    const tpl = await manifestTemplate();
    assert.equal(tpl.terminationGracePeriodSeconds, 45);
    const [redis, sentinel] = tpl.containers;
    assert.equal(redis.name, 'redis');
    const d = { initialDelaySeconds: 0, successThreshold: 1 };
    assert.deepEqual(redis.startup, {
      kind: 'startup',
      path: '/healthz',
      port: 8080,
      periodSeconds: 5,
      timeoutSeconds: 1,
      failureThreshold: 60,
      ...d,
    });
    assert.deepEqual(redis.liveness, {
      kind: 'liveness',
      path: '/healthz',
      port: 8080,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
      ...d,
    });
    assert.deepEqual(redis.readiness, {
      kind: 'readiness',
      path: '/readyz',
      port: 8080,
      periodSeconds: 2,
      timeoutSeconds: 5,
      failureThreshold: 2,
      ...d,
    });
    assert.equal(sentinel.name, 'sentinel');
    assert.deepEqual(
      [sentinel.startup?.path, sentinel.startup?.port, sentinel.startup?.failureThreshold],
      ['/healthz', 8081, 60],
    );
    assert.equal(sentinel.liveness?.port, 8081);
    assert.deepEqual(
      [sentinel.readiness?.path, sentinel.readiness?.periodSeconds, sentinel.readiness?.failureThreshold],
      ['/readyz', 5, 3],
    );
    const api = await new KubeStandin().start();
    t.after(() => api.close());
    const c = await new LocalCluster({ api, root: await tempDir(t), probes: { timeScale: 0.2 } }).init();
    assert.equal(await c.terminationGraceMs(), 9000);
  });

  // Fake containers: an HTTP server on the pod IP (8080 for redis, 8081 for sentinel) whose /healthz fails while
  // <dir>/<name>.sick exists and whose /readyz passes while <dir>/<name>.ready exists; with <dir>/<name>.stubborn
  // it ignores SIGTERM. Each start appends its pid to <dir>/<name>.starts.
  const FAKE = `
    const http = require('node:http'); const fs = require('node:fs');
    const [ip, port, dir, name] = process.argv.slice(1);
    const has = (f) => fs.existsSync(dir + '/' + name + '.' + f);
    fs.appendFileSync(dir + '/' + name + '.starts', process.pid + '\\n');
    process.on('SIGTERM', () => {
      fs.appendFileSync(dir + '/' + name + '.terms', process.pid + '\\n');
      if (!has('stubborn')) process.exit(0);
    });
    http.createServer((q, s) => {
      const ok = q.url === '/healthz' ? !has('sick') : q.url === '/readyz' ? has('ready') : false;
      s.writeHead(ok ? 200 : 503); s.end(ok ? 'ok' : 'no');
    }).listen(Number(port), ip);`;

  test('startup gates liveness/readiness; Pod Ready = all containers ready; liveness kills and restarts', async (t) => {
    const api = await new KubeStandin().start();
    t.after(() => api.close());
    const dir = await tempDir(t);
    const ip = loopbackAddress();
    const touch = (f: string) => writeFile(join(dir, f), '');
    const untouch = (f: string) => rm(join(dir, f), { force: true });
    await Promise.all(['redis.sick', 'redis.ready', 'sentinel.ready'].map(touch));
    api.put('pods', statefulSetPod({ sts: 'redis', ordinal: 0, namespace: NS, containers: ['redis', 'sentinel'] }));
    const scale = 0.05; // redis: startup every 250 ms, liveness every 500 ms (3 failures), readiness every 100 ms
    const template: PodTemplate = await manifestTemplate();
    const log = new KubeletLog();
    const kubelet = new PodKubelet({
      api,
      ns: NS,
      pod: 'redis-0',
      ip,
      template,
      timeScale: scale,
      log,
      start: (name) =>
        startProcess(
          `fake ${name}`,
          process.execPath,
          ['-e', FAKE, ip, name === 'redis' ? '8080' : '8081', dir, name],
          {
            group: true,
          },
        ),
    });
    t.after(() => kubelet.stop());
    kubelet.start();
    const status = () => pod(api, 'redis-0');

    // Startup failing: redis not started, its liveness/readiness never run; sentinel (its startup passes) Ready.
    await waitFor(
      '3 failed startup probes',
      () => log.probes.filter((p) => p.probe === 'startup' && !p.ok).length >= 3,
    );
    await waitFor('sentinel ready', () => containerStatus(status(), 'sentinel').ready);
    assert.equal(containerStatus(status(), 'redis').started, false);
    assert.equal(cond(status(), 'Ready').status, 'False');
    assert.ok(!log.probes.some((p) => p.container === 'redis' && p.probe !== 'startup'));

    await untouch('redis.sick');
    await waitFor('Pod Ready', () => cond(status(), 'Ready').status === 'True', 5000);
    assert.equal(cond(status(), 'ContainersReady').status, 'True');
    assert.deepEqual(
      status().status.containerStatuses.map((s: any) => [s.name, s.ready, s.started, s.restartCount]),
      [
        ['redis', true, true, 0],
        ['sentinel', true, true, 0],
      ],
    );

    // A readiness failure makes the pod unready without killing anything.
    await untouch('sentinel.ready');
    await waitFor('Pod not Ready', () => cond(status(), 'Ready').status === 'False', 5000);
    assert.equal(containerStatus(status(), 'redis').ready, true);
    assert.equal(containerStatus(status(), 'sentinel').ready, false);
    await touch('sentinel.ready');
    await waitFor('Pod Ready again', () => cond(status(), 'Ready').status === 'True', 5000);
    assert.equal(log.kills.length, 0);

    // Liveness fails 3 times: SIGTERM to PID 1, ignored, SIGKILL after the (scaled 45 s) grace, restart.
    await touch('redis.stubborn');
    await touch('redis.sick');
    const t0 = Date.now();
    await waitFor('a liveness kill', () => log.kills.length === 1, 5000);
    await untouch('redis.sick');
    // The kill is logged as it starts: 'stubborn' stays until the container has stopped, else a SIGTERM that
    // reaches the fake late (a loaded machine) finds it gone and the fake exits before the grace period ends.
    await waitFor('the container stopped', () => log.kills[0].graceExpired !== undefined, 8000);
    await untouch('redis.stubborn');
    await waitFor('redis restarted', () => containerStatus(status(), 'redis').restartCount === 1, 8000);
    const restartedAfter = Date.now() - t0;
    assert.equal(log.kills[0].container, 'redis');
    assert.equal(log.kills[0].reason, 'liveness');
    assert.equal(log.kills[0].graceExpired, true);
    assert.equal(log.kills[0].exitCode, 137);
    assert.ok(restartedAfter >= 2250, `restarted only after the grace period (${restartedAfter} ms)`);
    assert.equal(readFileSync(join(dir, 'redis.terms'), 'utf8').trim().split('\n').length, 1, 'one SIGTERM');
    const starts = () => readFileSync(join(dir, 'redis.starts'), 'utf8').trim().split('\n').length;
    await waitFor('the new redis container runs', () => starts() === 2, 5000);
    const redis = containerStatus(status(), 'redis');
    assert.equal(redis.lastState.terminated.exitCode, 137);
    assert.equal(redis.lastState.terminated.reason, 'Error');
    assert.deepEqual(
      log.restarts.map((r) => [r.container, r.restartCount, r.cause]),
      [['redis', 1, 'liveness']],
    );
    await waitFor('Ready after the restart', () => cond(status(), 'Ready').status === 'True', 5000);
    assert.equal(containerStatus(status(), 'sentinel').restartCount, 0);

    kubelet.stop();
    const n = log.probes.length;
    assert.equal((kubelet as unknown as { timers: Set<unknown> }).timers.size, 0, 'no probe scheduled after stop');
    assert.ok(log.probes.length - n <= 2, 'at most the in-flight probes end');
  });
});

describe('a client that behaves like a Service', () => {
  test('ServiceWriter writes only to a pod labelled master AND Ready AND not terminating', async (t) => {
    const { api, c, dir } = await standin(t);
    const [a, a2, b, b2] = [0, 1, 2, 3].map(() => loopbackAddress());
    const servers = await Promise.all([
      startRedis({ host: a, dir: join(dir, 'a'), conf: ['repl-diskless-sync-delay 0'] }),
      startRedis({ host: a2, dir: join(dir, 'a2'), conf: [`replicaof ${a} 6379`] }),
      startRedis({ host: b, dir: join(dir, 'b'), conf: ['repl-diskless-sync-delay 0'] }),
      startRedis({ host: b2, dir: join(dir, 'b2'), conf: [`replicaof ${b} 6379`] }),
    ]);
    t.after(() => Promise.all(servers.map((s) => s.stop(2000))));
    for (const [i, ip, ready] of [
      [0, a, false],
      [1, b, true],
    ] as const) {
      api.put('pods', statefulSetPod({ sts: 'redis', ordinal: i, namespace: NS, labels: { app: 'redis' } }));
      const p = pod(api, `redis-${i}`);
      api.put('pods', { ...p, metadata: { ...p.metadata, labels: { ...p.metadata.labels, 'redis-role': 'master' } } });
      setPodState(api, NS, `redis-${i}`, { phase: 'Running', podIP: ip, ready });
    }
    assert.deepEqual(serviceEndpoints(c), [b]);
    const svc = new ServiceWriter(c);
    const label = new LabelWriter(c);
    t.after(() => Promise.all([svc.stop(), label.stop()]));
    svc.start();
    label.start();
    await waitFor('writes acknowledged', () => svc.acked.length >= 20 && label.acked.length >= 20, 10_000);
    assert.deepEqual(Object.keys(svc.sentTo), [b], 'the Service sends only to the Ready master-labelled pod');
    assert.deepEqual(Object.keys(label.sentTo), [a], 'the label writer (default) ignores readiness');

    setPodState(api, NS, 'redis-1', { phase: 'Running', podIP: b, ready: false });
    setPodState(api, NS, 'redis-0', { phase: 'Running', podIP: a, ready: true });
    const before = svc.acked.length;
    await waitFor('writes to a', () => svc.acked.slice(before).filter((x) => x.ip === a).length >= 20, 10_000);
    const lastB = svc.acked.findLastIndex((x) => x.ip === b);
    assert.ok(
      svc.acked.slice(lastB + 1).every((x) => x.ip === a),
      'no write to b once it left the endpoints',
    );

    markTerminating(api, NS, 'redis-0');
    assert.deepEqual(serviceEndpoints(c), [], 'a terminating pod leaves the endpoints');
    const failures = svc.failures;
    const sent = { ...svc.sentTo };
    await waitFor('the writer finds no endpoint', () => svc.failures >= failures + 5, 5000);
    assert.deepEqual(svc.sentTo, sent, 'nothing sent while there is no endpoint');
  });
});

describe('LocalCluster with probes (real Redis and Sentinel)', () => {
  test('readiness only from probes, a Pending pod started later, a late annotation, no Redis killed', async (t) => {
    const api = await new KubeStandin().start();
    const root = await tempDir(t);
    const c = await new LocalCluster({
      api,
      root,
      probes: { timeScale: 0.5 },
      log: process.env.TEST_VERBOSE ? (p, l) => process.stderr.write(`[${p}] ${l}\n`) : undefined,
    }).init();
    t.after(async () => {
      await stopAll(); // SIGKILL: a scaled 9 s grace per master is not worth waiting for here
      await api.close();
    });
    await c.startAll([0, 1, 2], { pending: [2] });
    for (const i of [0, 1]) assert.equal(c.isReady(i), false, `redis-${i} is not Ready before any probe passed`);
    const p2 = pod(api, 'redis-2');
    assert.equal(p2.status.phase, 'Pending');
    assert.equal(p2.status.podIP, undefined);

    // Containers of 0 and 1 run and are probed (startup first) while 2 is Pending; none is Ready yet.
    for (const name of ['redis-0', 'redis-1']) {
      await waitFor(`startup probes of ${name}`, () => c.kubelet.probes.some((r) => r.pod === name), 10_000);
    }
    assert.ok(c.pod(0).redis && c.pod(1).sentinel && !c.pod(2).redis, 'containers of 0 and 1 run, not of 2');
    assert.equal(pod(api, 'redis-2').status.phase, 'Pending', 'still Pending while the others run');

    const late = c.delayDataAnnotation(2, 1500);
    await c.startPod(2);
    await Promise.all([0, 1, 2].map((i) => c.waitReady(i, 40_000)));
    const became = c.kubelet.readiness.filter((r) => r.ready).map((r) => `${r.pod}/${r.container}`);
    assert.equal(new Set(became).size, 6, 'every container became ready through its probe');
    await waitFor('the annotation arrives', () => pod(api, 'redis-2').metadata.annotations?.['redis-ha-launcher/data']);
    assert.ok(late.hits >= 1, 'the launcher PATCHed its data annotation and the PATCH was held');
    const master = await c.converged('converged with probes', 30_000);
    assert.equal(master, 'redis-0');
    for (const i of [0, 1, 2]) {
      const s = pod(api, `redis-${i}`).status;
      for (const name of ['redis', 'sentinel']) {
        const cs = s.containerStatuses.find((x: any) => x.name === name);
        const restarts = c.kubelet.restarts.filter((r) => r.pod === `redis-${i}` && r.container === name);
        assert.deepEqual([cs.ready, cs.started], [true, true]);
        assert.equal(cs.restartCount, restarts.length, 'restartCount counts the kubelet restarts');
      }
    }
    const kills = c.kubelet.kills.map((k) => `${k.pod}/${k.container} by ${k.reason}`);
    t.diagnostic(`probe kills during this boot: ${kills.join(', ') || 'none'}`);
    assert.equal(kills.filter((k) => k.includes('/redis ')).length, 0, 'no Redis container killed by a probe');

    // Pod deletion with the manifest's grace period (45 s x 0.5): a replica stops well within it.
    const stopped = await c.stopPod(1);
    assert.deepEqual(stopped.graceExpired, []);
    assert.equal(stopped.redis, 0);
    assert.equal(cond(pod(api, 'redis-1'), 'Ready').status, 'False', 'the kubelet reported the containers gone');
  });
});
