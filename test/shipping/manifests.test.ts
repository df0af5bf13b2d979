// What a platform engineer applies: the kustomize base and every component render, validate against the
// Kubernetes schemas with no unknown field, pass Pod Security "restricted", and match the launcher's contract
// (settings, probes, ports, labels, RBAC). In CI a missing kubectl is a failure, not a skip.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { SETTINGS } from '../../src/config/settings.ts';
import {
  CLUSTER_COMPONENTS,
  COMPONENTS,
  problems,
  render,
  renderCopy,
  renderOverlay,
  restrictedViolations,
  type Obj,
} from '../support/manifests.ts';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const skip = hasKubectl || process.env.CI ? false : 'kubectl (for kustomize) is not installed';

const find = (docs: Obj[], kind: string, name?: string) =>
  docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));

test('kustomize renders the base, each component and all of them; every object is valid', { skip }, async () => {
  assert.ok(hasKubectl, 'kubectl is needed (and installed by .ci/run) to render the manifests');
  for (const components of [[], ...COMPONENTS.map((c) => [c]), COMPONENTS]) {
    const docs = await render(components);
    const found = (await Promise.all(docs.map(problems))).flat();
    assert.deepEqual(found, [], `with components [${components.join(', ')}]`);
    const sts = find(docs, 'StatefulSet');
    assert.deepEqual(restrictedViolations(sts?.spec.template.spec), [], `restricted, components [${components}]`);
  }
});

test('every StatefulSet shipped is Parallel: launcher run refuses OrderedReady', { skip }, async () => {
  for (const docs of [
    await render(COMPONENTS),
    await renderOverlay('overlays/cluster'),
    await renderOverlay('overlays/dedicated-sentinels'),
  ]) {
    for (const sts of docs.filter((d) => d.kind === 'StatefulSet')) {
      assert.equal(sts.spec.podManagementPolicy, 'Parallel', sts.metadata.name);
    }
  }
});

test('the checks find a misspelt field, a wrong type and a root container', { skip }, async () => {
  const docs = await render();
  const sts = structuredClone(find(docs, 'StatefulSet'))!;
  sts.spec.template.spec.containers[0].livenesProbe = { httpGet: { path: '/healthz', port: 8080 } };
  sts.spec.template.spec.securityContext.runAsNonroot = true;
  assert.deepEqual((await problems(sts)).map((p) => p.replace(/^StatefulSet\/redis: /, '')).sort(), [
    'unknown field StatefulSet.spec.template.spec.containers[0].livenesProbe',
    'unknown field StatefulSet.spec.template.spec.securityContext.runAsNonroot',
  ]);
  const typo = structuredClone(find(docs, 'StatefulSet'))!;
  typo.spec.replicas = 'three';
  assert.match((await problems(typo)).join('\n'), /replicas.*must be integer/, 'the schema check finds a wrong type');
  const root = structuredClone(sts);
  root.spec.template.spec.securityContext.runAsUser = 0;
  delete root.spec.template.spec.containers[1].securityContext;
  assert.deepEqual(restrictedViolations(root.spec.template.spec), [
    'container redis runs as UID 0',
    'container sentinel does not set allowPrivilegeEscalation=false',
    'container sentinel does not drop ALL capabilities',
    'container sentinel runs as UID 0',
  ]);
});

test('the pods match the launcher: settings, probes, ports, labels, Services, RBAC', { skip }, async () => {
  const docs = await render(COMPONENTS);
  const sts = find(docs, 'StatefulSet')!;
  const pod = sts.spec.template;
  const known = new Set<string>(SETTINGS.map((s) => s.env));
  assert.equal(pod.spec.enableServiceLinks, false, 'no Service-link variables in the env');
  for (const c of pod.spec.containers) {
    const env = new Map<string, any>(c.env.map((e: any) => [e.name, e]));
    for (const name of env.keys()) assert.ok(known.has(name), `${c.name}: ${name} is not a launcher setting`);
    for (const name of ['REDIS_PORT', 'SENTINEL_PORT', 'LAUNCHER_HTTP_PORT']) {
      assert.ok(env.get(name)?.value, `${c.name}: ${name} is set explicitly`);
    }
    const ports = new Map<string | number, number>();
    for (const p of c.ports) ports.set(p.name, p.containerPort).set(p.containerPort, p.containerPort);
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const probe = c[kind];
      assert.ok(probe, `${c.name} has a ${kind}`);
      assert.ok(ports.has(probe.httpGet.port), `${c.name} ${kind} port ${probe.httpGet.port} is a container port`);
      assert.equal(String(probe.httpGet.port), env.get('LAUNCHER_HTTP_PORT').value, `${c.name} ${kind} port`);
      assert.ok(['/healthz', '/readyz'].includes(probe.httpGet.path), `${c.name} ${kind} path ${probe.httpGet.path}`);
    }
    assert.equal(c.startupProbe.httpGet.path, '/healthz', 'startup is liveness, never the sync gate');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.ok(c.resources?.requests?.memory && c.resources?.limits?.memory, `${c.name} has memory requests/limits`);
  }
  assert.deepEqual(
    pod.spec.containers.map((c: any) => c.args),
    [['run'], ['run', '--sentinel']],
  );
  const selector = sts.spec.selector.matchLabels;
  assert.deepEqual(selector, { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'redis' });
  for (const [k, v] of Object.entries(selector)) assert.equal(pod.metadata.labels[k], v);
  for (const k of ['app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of']) assert.ok(pod.metadata.labels[k]);
  const podSelector = pod.spec.containers[0].env.find((e: any) => e.name === 'REDIS_POD_SELECTOR').value;
  assert.equal(podSelector, 'app.kubernetes.io/name=redis,app.kubernetes.io/instance=redis');
  for (const c of pod.spec.containers) {
    const env = (n: string) => c.env.find((e: any) => e.name === n)?.value;
    assert.equal(env('REDIS_HOSTNAMES'), 'true', `${c.name}: hostnames on by default`);
    assert.equal(env('REDIS_HEADLESS_SERVICE'), sts.spec.serviceName, `${c.name}: the DNS names are the Service's`);
  }
  assert.equal(find(docs, 'Service', sts.spec.serviceName)?.spec.clusterIP, 'None', 'the headless Service');
  const services = docs.filter((d) => d.kind === 'Service');
  for (const s of services) {
    for (const [k, v] of Object.entries(s.spec.selector)) {
      if (k !== 'redis-role') assert.equal(pod.metadata.labels[k], v, `${s.metadata.name} selects the pods`);
    }
  }
  assert.equal(find(docs, 'Service', 'redis-master')?.spec.selector['redis-role'], 'master');
  assert.equal(find(docs, 'Service', 'redis-replicas')?.spec.selector['redis-role'], 'slave');
  assert.equal(find(docs, 'Service', 'redis-headless')?.spec.publishNotReadyAddresses, true);
  assert.equal(find(docs, 'Service', 'redis-master')?.spec.publishNotReadyAddresses, undefined, 'only Ready pods');
  assert.equal(find(docs, 'PodDisruptionBudget')?.spec.maxUnavailable, 1);
  assert.equal(pod.spec.serviceAccountName, find(docs, 'ServiceAccount')?.metadata.name);
  const grace = pod.spec.terminationGracePeriodSeconds * 1000;
  const redisEnv = (n: string) => Number(pod.spec.containers[0].env.find((e: any) => e.name === n).value);
  assert.ok(redisEnv('HANDOVER_TIMEOUT_MS') + redisEnv('REDIS_STOP_TIMEOUT_MS') < grace, 'the shutdown budget fits');
  // RBAC: no verb the code does not use (it watches its pods and the master of record), names where RBAC allows them.
  const role = find(docs, 'Role')!;
  const verbs = role.rules.flatMap((r: any) =>
    r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${res}:${v}`)),
  );
  assert.deepEqual([...new Set(verbs)].sort(), [
    'events:create',
    'leases:create',
    'leases:get',
    'leases:list',
    'leases:patch',
    'leases:watch',
    'pods:get',
    'pods:list',
    'pods:patch',
    'pods:watch',
    'statefulsets:get',
  ]);
  const named = (res: string) =>
    role.rules.filter((r: any) => r.resources.includes(res) && r.resourceNames).flatMap((r: any) => r.resourceNames);
  assert.deepEqual(named('statefulsets'), [sts.metadata.name]);
  assert.deepEqual(named('leases'), ['mymaster-master', 'mymaster-master-labels', 'mymaster-master-sentinel-reset']);
  const leaseRule = (name: string) => role.rules.find((r: any) => r.resourceNames?.includes(name))?.verbs.sort();
  assert.deepEqual(leaseRule('mymaster-master'), ['get', 'list', 'patch', 'watch'], 'the record is watched');
  assert.deepEqual(leaseRule('mymaster-master-labels'), ['get', 'patch'], 'the locks are not');
  // Components: the password comes from a file, the policy admits the set's own ports, the monitor scrapes both.
  for (const c of pod.spec.containers) {
    assert.ok(
      c.env.some((e: any) => e.name === 'REDIS_PASSWORD_FILE'),
      `${c.name} reads the password file`,
    );
    assert.ok(
      c.env.some((e: any) => e.name === 'REDIS_TLS_DIR' && e.value === '/etc/redis-tls'),
      `${c.name} speaks TLS with the mounted certificate`,
    );
    for (const user of ['LAUNCHER', 'REPLICATION', 'SENTINEL']) {
      assert.ok(
        c.env.some((e: any) => e.name === `REDIS_ACL_${user}_PASSWORD_FILE`),
        `${c.name} reads the ${user.toLowerCase()} user's password file`,
      );
    }
  }
  const cert = find(docs, 'Certificate')!;
  assert.equal(
    pod.spec.volumes.find((v: any) => v.name === 'redis-tls')?.secret.secretName,
    cert.spec.secretName,
    "the pods mount the Certificate's Secret",
  );
  assert.ok(cert.spec.usages.includes('client auth'), 'the pods present it as clients too');
  const policy = find(docs, 'NetworkPolicy')!;
  const policyPorts = policy.spec.ingress[0].ports.map((p: any) => p.port);
  assert.deepEqual(policyPorts, [6379, 16379, 26379, 8080, 8081]);
  const monitor = find(docs, 'PodMonitor')!;
  assert.deepEqual(
    monitor.spec.podMetricsEndpoints.map((e: any) => e.port),
    ['http', 'sentinel-http'],
  );
  assert.equal(
    find(docs, 'StatefulSet')?.spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable,
    'DoNotSchedule',
  );
});

test(
  'monitoring: every alert and dashboard query uses metrics the launcher exports; each alert says who',
  { skip },
  async () => {
    const docs = await render(['monitoring']);
    const { createRedisMetrics, createSentinelMetrics } = await import('../../src/runtime/metrics.ts');
    const exported = new Set(
      [createRedisMetrics(), createSentinelMetrics()].flatMap((m) => m.registry.getMetricsAsArray().map((g) => g.name)),
    );
    const used = (expr: string) => [...expr.matchAll(/\b(redis_ha_[a-z_]+)\b/g)].map((m) => m[1]);
    const rules = find(docs, 'PrometheusRule')!.spec.groups.flatMap((g: any) => g.rules);
    const alerts = rules.map((r: any) => r.alert);
    for (const want of [
      'RedisHANoReadyMaster',
      'RedisHAMultipleMasterLabels',
      'RedisHALabelDisagreesWithRole',
      'RedisHAReplicaLag',
      'RedisHAMasterLinkDown',
      'RedisHASentinelWithoutQuorum',
      'RedisHASplitBrainHealed',
      'RedisHAHandoverFailed',
    ]) {
      assert.ok(alerts.includes(want), want);
    }
    for (const r of rules) {
      assert.ok(used(r.expr).length, `${r.alert} uses the launcher's metrics`);
      for (const m of used(r.expr)) assert.ok(exported.has(m), `${r.alert}: ${m} is exported`);
      assert.match(r.annotations.summary, /\{\{ \$labels\.(pod|namespace) \}\}/, `${r.alert} names the pod or set`);
    }
    const cm: any = find(docs, 'ConfigMap', 'redis-ha-dashboard');
    const dashboard = JSON.parse(cm.data['redis-ha-dashboard.json']);
    assert.equal(cm.metadata.labels.grafana_dashboard, '1', "for Grafana's dashboard sidecar");
    const queries = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr as string));
    assert.ok(queries.length >= 5);
    for (const q of queries) for (const m of used(q)) assert.ok(exported.has(m), `dashboard: ${m} is exported`);
  },
);

test(
  'overlay dedicated-sentinels: valid; the Sentinels watch both Redis StatefulSets; each set names itself',
  { skip },
  async () => {
    const docs = await renderOverlay('overlays/dedicated-sentinels');
    assert.deepEqual((await Promise.all(docs.map(problems))).flat(), []);
    const known = new Set<string>(SETTINGS.map((s) => s.env));
    const matches = (selector: string, labels: Record<string, string>) =>
      selector.split(',').every((kv) => labels[kv.split('=')[0]] === kv.split('=')[1]);
    const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
    const sets = docs.filter((d) => d.kind === 'StatefulSet' && d.metadata.name !== 'redis-sentinel');
    const sentinels = find(docs, 'StatefulSet', 'redis-sentinel')!;
    assert.deepEqual(
      sets.map((s) => s.metadata.name),
      ['cache-redis', 'sessions-redis'],
    );
    const sEnv = envOf(sentinels.spec.template.spec.containers[0]);
    for (const name of Object.keys(sEnv)) assert.ok(known.has(name), `sentinel: ${name} is a launcher setting`);
    assert.ok(matches(sEnv.SENTINEL_POD_SELECTOR, sentinels.spec.template.metadata.labels));
    assert.equal(sEnv.REDIS_HEADLESS_SERVICE, sentinels.spec.serviceName);
    assert.equal(find(docs, 'Service', sentinels.spec.serviceName)?.spec.clusterIP, 'None');
    for (const sts of [...sets, sentinels]) {
      assert.deepEqual(restrictedViolations(sts.spec.template.spec), [], `${sts.metadata.name}: restricted`);
    }
    for (const sts of sets) {
      const name = sts.metadata.name;
      assert.ok(matches(sEnv.SENTINEL_WATCH_SELECTOR, (sts.metadata as any).labels), `the Sentinels watch ${name}`);
      const containers = sts.spec.template.spec.containers;
      assert.deepEqual(
        containers.map((c: any) => c.name),
        ['redis'],
        `${name}: no sidecar`,
      );
      const env = envOf(containers[0]);
      for (const k of Object.keys(env)) assert.ok(known.has(k), `${name}: ${k} is a launcher setting`);
      assert.equal(env.REDIS_MASTER_SET, name, `${name}: its master set is the Sentinels' name for it`);
      assert.equal(env.REDIS_HEADLESS_SERVICE, sts.spec.serviceName, `${name}: its DNS names are its Service's`);
      assert.equal(find(docs, 'Service', sts.spec.serviceName)?.spec.clusterIP, 'None');
      assert.ok(matches(env.REDIS_POD_SELECTOR, sts.spec.template.metadata.labels), `${name}: selects its pods`);
      assert.deepEqual(
        Object.entries(sts.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`),
        env.REDIS_POD_SELECTOR.split(',').sort(),
      );
      assert.ok(matches(env.SENTINEL_POD_SELECTOR, sentinels.spec.template.metadata.labels), `${name}: its Sentinels`);
      assert.equal(find(docs, 'Service', `${name}-master`)?.spec.selector['redis-role'], 'master');
      assert.ok(matches(env.REDIS_POD_SELECTOR, find(docs, 'Service', `${name}-master`)!.spec.selector));
      const role = find(docs, 'Role', sts.spec.template.spec.serviceAccountName)!;
      const names = role.rules.flatMap((r: any) => r.resourceNames ?? []);
      assert.deepEqual(names.sort(), [
        name,
        `${name}-master`,
        `${name}-master-labels`,
        `${name}-master-sentinel-reset`,
      ]);
    }
    const verbs = find(docs, 'Role', 'redis-sentinel')!.rules.flatMap((r: any) =>
      r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${res}:${v}`)),
    );
    for (const v of ['statefulsets:list', 'statefulsets:watch', 'leases:create', 'pods:patch']) {
      assert.ok(verbs.includes(v), `the Sentinels may ${v}`);
    }
  },
);

test(
  'overlay cluster: valid; 6 pods of one container in cluster mode; the bus port; the bootstrap Lease',
  { skip },
  async () => {
    const docs = await renderOverlay('overlays/cluster');
    assert.deepEqual((await Promise.all(docs.map(problems))).flat(), []);
    const sts = find(docs, 'StatefulSet', 'redis')!;
    const [redis, ...others] = sts.spec.template.spec.containers;
    assert.deepEqual(others, [], 'no Sentinel');
    const env = Object.fromEntries(redis.env.map((e: any) => [e.name, e.value]));
    const known = new Set<string>(SETTINGS.map((s) => s.env));
    for (const k of Object.keys(env)) assert.ok(known.has(k), `${k} is a launcher setting`);
    assert.equal(env.CLUSTER_MODE, 'true');
    assert.equal(sts.spec.replicas, Number(env.CLUSTER_MASTERS) * (1 + Number(env.CLUSTER_REPLICAS_PER_MASTER)));
    assert.ok(
      redis.ports.some((p: any) => p.containerPort === 16379),
      'the cluster bus port',
    );
    assert.deepEqual(restrictedViolations(sts.spec.template.spec), []);
    const headless = find(docs, 'Service', 'redis-headless')!;
    assert.deepEqual(
      headless.spec.ports.map((p: any) => p.port),
      [6379, 16379],
    );
    assert.ok(find(docs, 'Service', 'redis-cluster'), 'a client Service');
    for (const gone of ['redis-sentinel', 'redis-master', 'redis-replicas']) {
      assert.equal(find(docs, 'Service', gone), undefined);
    }
    const role = find(docs, 'Role')!;
    assert.ok(
      role.rules.some((r: any) => r.resourceNames?.includes('mymaster-cluster') && r.verbs.includes('get')),
      'the bootstrap Lease may be read',
    );
  },
);

// What each component that hands the launcher a Secret gives a container: its env (name -> value) and the Secret,
// mounted read-only. In cluster mode the Redis container gets no Sentinel user (the launcher refuses it, exit 2).
type Wiring = { env: Record<string, string>; volume: string; mountPath: string };
const PASSWORD: Wiring = {
  env: { REDIS_PASSWORD_FILE: '/etc/redis-secret/password' },
  volume: 'redis-password',
  mountPath: '/etc/redis-secret',
};
const TLS: Wiring = { env: { REDIS_TLS_DIR: '/etc/redis-tls' }, volume: 'redis-tls', mountPath: '/etc/redis-tls' };
const acl = (...users: string[]): Wiring => ({
  env: Object.fromEntries(users.map((u) => [`REDIS_ACL_${u.toUpperCase()}_PASSWORD_FILE`, `/etc/redis-acl/${u}`])),
  volume: 'redis-acl',
  mountPath: '/etc/redis-acl',
});
const SENTINEL_WIRING: Record<string, Record<string, Wiring>> = {
  password: { redis: PASSWORD, sentinel: PASSWORD },
  tls: { redis: TLS, sentinel: TLS },
  'acl-users': {
    redis: acl('launcher', 'replication', 'sentinel'),
    sentinel: acl('launcher', 'replication', 'sentinel'),
  },
};
const CLUSTER_WIRING: Record<string, Record<string, Wiring>> = {
  'cluster/password': { redis: PASSWORD },
  'cluster/tls': { redis: TLS },
  'cluster/acl-users': { redis: acl('launcher', 'replication') },
};

const envOf = (c: any): Record<string, unknown> =>
  Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? JSON.stringify(e.valueFrom)]));
const byKey = (key: string) => (a: any, b: any) => String(a[key]).localeCompare(String(b[key]));

/**
 * The StatefulSet rendered with `components` is the bare one (no component) plus exactly what the components wire
 * into each container: the same containers, each with its env, mounts and the Secrets' volumes, nothing else.
 */
function assertWired(
  docs: Obj[],
  bare: Obj[],
  components: string[],
  wiring: Record<string, Record<string, Wiring>>,
  at = `components [${components.join(', ')}]`,
) {
  const sts = find(docs, 'StatefulSet', 'redis')!;
  const bareSts = find(bare, 'StatefulSet', 'redis')!;
  const spec = sts.spec.template.spec;
  const bareContainers = bareSts.spec.template.spec.containers;
  assert.deepEqual(
    spec.containers.map((c: any) => c.name),
    bareContainers.map((c: any) => c.name),
    `${at}: the containers are the layout's`,
  );
  const volumes = [...bareSts.spec.template.spec.volumes];
  for (const c of spec.containers) {
    const bareC = bareContainers.find((b: any) => b.name === c.name);
    const env: Record<string, unknown> = envOf(bareC);
    const mounts = [...(bareC.volumeMounts ?? [])];
    for (const w of components.flatMap((k) => wiring[k]?.[c.name] ?? [])) {
      Object.assign(env, w.env);
      mounts.push({ name: w.volume, mountPath: w.mountPath, readOnly: true });
      if (!volumes.some((v) => v.name === w.volume)) {
        volumes.push({ name: w.volume, secret: { secretName: w.volume, defaultMode: 0o400 } });
      }
    }
    assert.equal(new Set(c.env.map((e: any) => e.name)).size, c.env.length, `${at}: ${c.name} has no env twice`);
    assert.deepEqual(envOf(c), env, `${at}: the env of ${c.name}`);
    assert.deepEqual([...c.volumeMounts].sort(byKey('mountPath')), mounts.sort(byKey('mountPath')), `${at}: mounts`);
  }
  assert.deepEqual([...spec.volumes].sort(byKey('name')), volumes.sort(byKey('name')), `${at}: the volumes`);
  if (spec.volumes.some((v: any) => v.name === 'redis-tls')) {
    assert.equal(find(docs, 'Certificate')?.spec.secretName, 'redis-tls', `${at}: the Certificate's Secret`);
  }
}

const SECRET_COMPONENTS = Object.keys(SENTINEL_WIRING);
const CLUSTER_SECRET_COMPONENTS = Object.keys(CLUSTER_WIRING);

test('Sentinel mode: each container gets the password, TLS and all three ACL users, as before', { skip }, async () => {
  const bare = await render();
  for (const components of [...SECRET_COMPONENTS.map((c) => [c]), COMPONENTS]) {
    assertWired(await render(components), bare, components, SENTINEL_WIRING);
  }
});

test(
  'overlay cluster with each component and all of them: valid; one container redis; the env it gets',
  { skip },
  async () => {
    const bare = await renderOverlay('overlays/cluster');
    const known = new Set<string>(SETTINGS.map((s) => s.env));
    for (const components of [...CLUSTER_COMPONENTS.map((c) => [c]), CLUSTER_COMPONENTS]) {
      // As the README says (the overlay as a resource, the components beside it) and inside a copy of the overlay.
      for (const [how, docs] of [
        ['beside', await render(components, 'overlays/cluster')],
        ['inside a copy of', await renderCopy('overlays/cluster', components)],
      ] as const) {
        const at = `components [${components.join(', ')}] ${how} the overlay`;
        assert.deepEqual((await Promise.all(docs.map(problems))).flat(), [], at);
        const sets = docs.filter((d) => d.kind === 'StatefulSet');
        assert.deepEqual(
          sets.map((s) => s.metadata.name),
          ['redis'],
          at,
        );
        const spec = sets[0].spec.template.spec;
        assert.deepEqual(
          spec.containers.map((c: any) => c.name),
          ['redis'],
          `${at}: exactly one container, redis`,
        );
        assert.deepEqual(restrictedViolations(spec), [], `${at}: restricted`);
        const env = envOf(spec.containers[0]);
        for (const k of Object.keys(env)) assert.ok(known.has(k), `${at}: ${k} is a launcher setting`);
        assert.equal(env.CLUSTER_MODE, 'true', at);
        assert.equal(env.REDIS_ACL_SENTINEL_PASSWORD_FILE, undefined, `${at}: cluster mode refuses the Sentinel user`);
        assertWired(docs, bare, components, CLUSTER_WIRING, at);
      }
    }
    const all = envOf(
      find(await render(CLUSTER_COMPONENTS, 'overlays/cluster'), 'StatefulSet')!.spec.template.spec.containers[0],
    );
    for (const k of CLUSTER_SECRET_COMPONENTS.flatMap((c) => Object.keys(CLUSTER_WIRING[c].redis.env))) {
      assert.ok(all[k], `with every component the Redis container gets ${k}`);
    }
  },
);

test("network-policy: the cluster bus (16379) is admitted from the set's own pods only", { skip }, async () => {
  for (const docs of [
    await render(['network-policy'], 'overlays/cluster'),
    await render(CLUSTER_COMPONENTS, 'overlays/cluster'),
  ]) {
    const sts = find(docs, 'StatefulSet', 'redis')!;
    const labels = sts.spec.template.metadata.labels;
    const selector = sts.spec.selector.matchLabels;
    const policy = find(docs, 'NetworkPolicy')!;
    const matches = (m: Record<string, string>) => Object.entries(m).every(([k, v]) => labels[k] === v);
    assert.ok(matches(policy.spec.podSelector.matchLabels), "the policy applies to the set's pods");
    assert.ok(
      sts.spec.template.spec.containers[0].ports.some((p: any) => p.containerPort === 16379),
      "the bus port is the container's",
    );
    // A rule without ports admits every port; a rule without from admits every source.
    const busRules = policy.spec.ingress.filter(
      (r: any) => !r.ports || r.ports.some((p: any) => p.port === 16379 || p.port === 'cluster-bus'),
    );
    assert.ok(busRules.length > 0, 'some rule admits the cluster bus');
    for (const r of busRules) {
      assert.ok(r.from?.length, 'the bus is not open to every source');
      for (const peer of r.from) {
        assert.deepEqual(Object.keys(peer), ['podSelector'], 'only pods of this namespace, no other namespace or IP');
        assert.ok(matches(peer.podSelector.matchLabels ?? {}), "the peers are the set's pods");
        for (const [k, v] of Object.entries(selector)) {
          assert.equal(peer.podSelector.matchLabels[k], v, `the peers are this set's pods (${k})`);
        }
      }
      const port = r.ports?.find((p: any) => p.port === 16379 || p.port === 'cluster-bus');
      assert.equal(port?.protocol ?? 'TCP', 'TCP');
    }
  }
});

test(
  'stock-engine-image: an init container copies the launcher into an emptyDir; the stock engine image runs it',
  { skip },
  async () => {
    for (const [layout, component, others] of [
      ['', 'stock-engine-image', COMPONENTS],
      ['overlays/cluster', 'cluster/stock-engine-image', CLUSTER_COMPONENTS],
      // Every StatefulSet of the layout: the Sentinels' and each Redis set's.
      ['overlays/dedicated-sentinels', 'dedicated-sentinels/stock-engine-image', []],
    ] as const) {
      for (const components of others.length ? [[component], [...others, component]] : [[component]]) {
        const docs = await render(components, layout);
        const at0 = `${layout || 'base'} with [${components.join(', ')}]`;
        assert.deepEqual((await Promise.all(docs.map(problems))).flat(), [], at0);
        const bareDocs = await render(components.slice(0, -1), layout);
        const sets = docs.filter((d) => d.kind === 'StatefulSet');
        assert.equal(sets.length, bareDocs.filter((d) => d.kind === 'StatefulSet').length, at0);
        for (const sts of sets) {
          const at = `${at0}, ${sts.metadata.name}`;
          const bare = find(bareDocs, 'StatefulSet', sts.metadata.name)!.spec.template.spec;
          const spec = sts.spec.template.spec;
          assert.deepEqual(restrictedViolations(spec), [], `${at}: restricted`);
          assert.deepEqual(
            spec.containers.map((c: any) => c.name),
            bare.containers.map((c: any) => c.name),
            `${at}: the layout's containers`,
          );
          assertInjected(spec, bare, at);
        }
      }
    }
  },
);

/** The launcher injected into a pod spec (`spec`) that ran the launcher's image before (`bare`). */
function assertInjected(spec: any, bare: any, at: string) {
  const init = (spec.initContainers ?? []).find((c: any) => c.name === 'launcher');
  assert.equal(init?.image, 'redis-ha-launcher-inject:0.1.0', `${at}: the launcher-only image`);
  assert.deepEqual(init.args, ['/launcher'], at);
  assert.deepEqual(init.volumeMounts, [{ name: 'launcher', mountPath: '/launcher' }], at);
  assert.deepEqual(
    spec.volumes.find((v: any) => v.name === 'launcher'),
    { name: 'launcher', emptyDir: {} },
    at,
  );
  for (const c of spec.containers) {
    const before = bare.containers.find((b: any) => b.name === c.name);
    assert.match(c.image, /^valkey\/valkey:\S+$/, `${at}: ${c.name} runs the stock engine image`);
    assert.deepEqual(
      c.command,
      ['/launcher/tini', '--', '/launcher/node', '--max-semi-space-size=1', '/launcher/launcher.mjs'],
      `${at}: ${c.name} runs the launcher from the emptyDir under tini, with the image's Node flags`,
    );
    assert.deepEqual(c.args, before.args, `${at}: ${c.name} keeps its arguments`);
    const env = envOf(c);
    assert.deepEqual(
      [env.REDIS_DATA_DIR, env.REDIS_CONF_DIR, env.LAUNCHER_PROMOTE_SCRIPT],
      ['/data', '/etc/redis-ha', '/launcher/launcher-promote'],
      `${at}: ${c.name} gets what the launcher's image sets in ENV`,
    );
    assert.deepEqual(
      envOf({ env: c.env.filter((e: any) => before.env.some((b: any) => b.name === e.name)) }),
      envOf(before),
      `${at}: ${c.name} keeps its settings`,
    );
    assert.deepEqual(
      c.volumeMounts.filter((m: any) => m.name === 'launcher'),
      [{ name: 'launcher', mountPath: '/launcher', readOnly: true }],
      at,
    );
    assert.deepEqual(c.securityContext, before.securityContext, `${at}: ${c.name} as locked down as before`);
  }
}
