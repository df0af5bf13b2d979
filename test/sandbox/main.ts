// `npm run sandbox`: the whole story on one machine. 3 pods (Redis + Sentinel each) on their own loopback
// addresses, running the bundled launcher (what ships) against the stand-in Kubernetes API; a live table; then a
// guided tour: write keys, kill the master, watch the failover, bring the old master back, check every key.
//   --no-tour   keep the cluster up until Ctrl-C
//   --pods N    how many pods (default 3)
//   --exit      stop after the tour
//   --ipv6      every pod in its own network namespace with an IPv6 (ULA) address only (needs root and `ip netns`)
//   --tls       TLS only (a throw-away CA made with openssl; certificates in cert-manager's layout)
//   --password  Redis and Sentinel require a (random) password, read from a file as from a mounted Secret
//   --sets N    N Redis sets (StatefulSets redis-a, redis-b, ...; default 1, named redis), the tour for each
//   --dedicated-sentinels  the Sentinels in a StatefulSet of 3 of their own, watching every set (no sidecars)
//   --hostnames Redis and Sentinel know the pods by DNS names (pods with their own network and hosts files where
//               the machine allows; on loopback it says so and uses IPs)
//   --cluster   Redis Cluster mode: 6 pods (3 masters, a replica each; --pods to change), its own tour
//   --engine E  the engine: redis (Redis 7.0, the machine's) or valkey (Valkey 8.0), or a version: redis-8.0,
//               valkey-8.1, valkey-9.1 (unpacked from Debian's newer suites into node_modules/.cache the first time)
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { missingBuild } from './built.ts';
import { aptCommand, has } from '../support/apt.ts';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { LocalCluster, REPO } from '../support/cluster.ts';
import { imageNodeFlags } from '../support/image.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { Network } from '../support/netns.ts';
import { stopAll } from '../support/processes.ts';
import { askWith, connect as connectRedis } from '../support/redis.ts';
import { clientTls, issue, makeCa, projectSecret } from '../support/tls.ts';
import { BUILDS, cliOf, fetchBuild, pickBuild } from '../support/engines.ts';
import { waitFor } from '../support/wait.ts';

const { values: opts } = parseArgs({
  options: {
    'no-tour': { type: 'boolean' },
    pods: { type: 'string' },
    exit: { type: 'boolean' },
    ipv6: { type: 'boolean' },
    tls: { type: 'boolean' },
    password: { type: 'boolean' },
    sets: { type: 'string', default: '1' },
    'dedicated-sentinels': { type: 'boolean' },
    hostnames: { type: 'boolean' },
    cluster: { type: 'boolean' },
    engine: { type: 'string', default: 'redis' },
  },
});
const engine = pickBuild(opts.engine);
if (!engine) {
  const names = ['redis', 'valkey', ...BUILDS.map((b) => b.label.split(' (')[0].replace(' ', '-'))];
  console.error(
    `sandbox: --engine ${JSON.stringify(opts.engine)} is invalid: expected one of ${[...new Set(names)].join(', ')}`,
  );
  process.exit(2);
}
if (!fetchBuild(engine)) {
  console.error(`sandbox: ${engine.label} could not be unpacked (see above)`);
  process.exit(1);
}
const setCount = Number(opts.sets);
if (!Number.isInteger(setCount) || setCount < 1 || setCount > 4) {
  console.error(`sandbox: --sets ${JSON.stringify(opts.sets)} is invalid: expected a whole number from 1 to 4`);
  process.exit(2);
}
const dedicated = Boolean(opts['dedicated-sentinels']);
const podCount = Number(opts.pods ?? (opts.cluster ? '6' : '3'));
if (!Number.isInteger(podCount) || podCount < 1 || podCount > 9) {
  console.error(`sandbox: --pods ${JSON.stringify(opts.pods)} is invalid: expected a whole number from 1 to 9`);
  process.exit(2);
}
const missing = ['redis-server', 'redis-sentinel'].filter((b) => !has(b));
if (missing.length) {
  console.error(`sandbox: ${missing.join(' and ')} not found; install them: ${aptCommand(missing)}`);
  process.exit(1);
}
const unbuilt = missingBuild(join(REPO, 'image/dist'));
if (unbuilt.length) {
  console.error(
    `sandbox: ${unbuilt.map((f) => relative(REPO, f)).join(', ')} missing; run \`npm run build\` ` +
      '(npm run sandbox does it for you)',
  );
  process.exit(1);
}
const bundle = join(REPO, 'image/dist/launcher.mjs');

const noNetns = opts.ipv6 || opts.hostnames ? Network.unavailable() : undefined;
if (noNetns && opts.ipv6) {
  console.error(`sandbox: --ipv6 needs pods with their own network, and ${noNetns}`);
  process.exit(1);
}
// Hostnames need a hosts file per pod (its own network namespace); on loopback the names would not resolve.
const hostnames = Boolean(opts.hostnames && !noNetns);

const say = (s = '') => process.stdout.write(s + '\n');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const root = await mkdtemp(join(tmpdir(), 'redis-ha-sandbox-'));
// kubectl sends no token over plain http (kubernetes/kubectl#744): the sandbox lets anonymous requests in, so it works.
const network = opts.ipv6 || hostnames ? Network.create(undefined, { ipv6: Boolean(opts.ipv6) }) : undefined;
// --tls: a throw-away CA and one certificate for every pod, mounted as a cert-manager Secret would be.
const tlsDir = opts.tls ? projectSecret(join(root, 'tls'), issue(makeCa(join(root, 'ca')), join(root, 'issued'))) : '';
const tls = tlsDir ? clientTls(tlsDir) : undefined;
// --password: a random password in a 0600 file, as a mounted Secret.
const passwordFile = opts.password ? join(root, 'password') : '';
const password = passwordFile ? randomBytes(18).toString('hex') : undefined;
if (passwordFile) writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
const ask = (host: string, port: number, ...cmd: (string | number)[]) => askWith({ tls, password }, host, port, ...cmd);
const connect = (host: string, port: number) => connectRedis(host, port, { ...(tls ? { tls } : {}), password });
const secretEnv: Record<string, string> = {
  ...(tlsDir ? { REDIS_TLS_DIR: tlsDir } : {}),
  ...(passwordFile ? { REDIS_PASSWORD_FILE: passwordFile } : {}),
};
/** The settings a command run against the sandbox needs, as a shell prefix (file paths only, never a secret). */
const cmdEnv = Object.entries({ ...secretEnv, ...(engine.fetch ? { REDIS_SERVER_BIN: engine.server } : {}) })
  .map(([k, v]) => `${k}=${v} `)
  .join('');
const redisCli = (host: string, port: number) =>
  `${passwordFile ? `REDISCLI_AUTH="$(cat ${passwordFile})" ` : ''}${cliOf(engine)} ` +
  `${tlsDir ? `--tls --cacert ${tlsDir}/ca.crt ` : ''}-h ${host} -p ${port}`;
const api = await new KubeStandin({ anonymous: { user: 'system:anonymous' } }).start({ host: network?.gateway });
const common = {
  // TEST_VERBOSE=1: every launcher's log on stderr.
  log: process.env.TEST_VERBOSE ? (pod: string, l: string) => process.stderr.write(`[${pod}] ${l}\n`) : undefined,
  api,
  root,
  network,
  // A new pod's name resolves a moment after it has its IP, as with the cluster DNS.
  dnsLagMs: hostnames ? 1000 : undefined,
  launcher: bundle,
  entrypoint: [process.execPath, ...imageNodeFlags(), bundle], // as the image runs it
  tls: tls && (() => tls),
  password,
};
const envFor = (sts: string) => ({
  LAUNCHER_WAIT_TIMEOUT_MS: '120000',
  ...(engine.fetch ? { REDIS_SERVER_BIN: engine.server } : {}),
  ...secretEnv,
  ...(hostnames ? { REDIS_HOSTNAMES: 'true', REDIS_HEADLESS_SERVICE: `${sts}-headless` } : {}),
  ...(dedicated ? { SENTINEL_POD_SELECTOR: 'app=sentinel' } : {}),
});
const WATCH = 'redis-ha-launcher/sentinels';
const sentinels =
  dedicated && !opts.cluster
    ? await new LocalCluster({
        ...common,
        sts: 'sentinel',
        containers: 'sentinel',
        env: { ...envFor('sentinel'), SENTINEL_WATCH_SELECTOR: `${WATCH}=sandbox` },
      }).init()
    : undefined;
// One set: redis (master set mymaster), as in manifests/. Several: redis-a, redis-b, ... each its own master set.
const setNames = opts.cluster
  ? []
  : setCount === 1 && !dedicated
    ? ['redis']
    : [...'abcd'].slice(0, setCount).map((x) => `redis-${x}`);
const sets: LocalCluster[] = [];
for (const sts of setNames) {
  sets.push(
    await new LocalCluster({
      ...common,
      sts,
      ...(sts === 'redis' ? {} : { masterSet: sts }),
      ...(dedicated
        ? { containers: 'redis' as const, sentinels, statefulSetMeta: { labels: { [WATCH]: 'sandbox' } } }
        : {}),
      env: envFor(sts),
    }).init(),
  );
}
let cleaning = false;
/** The live table's timer, once it runs (cleanup may come first, in cluster mode). */
const timers: { table?: NodeJS.Timeout } = {};
async function cleanup(code: number) {
  if (cleaning) return;
  cleaning = true;
  clearInterval(timers.table);
  say('\nstopping the sandbox: every process it started is stopped');
  await stopAll();
  await network?.close();
  await api.close();
  await rm(root, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => {
  void cleanup(0);
});
process.on('SIGTERM', () => {
  void cleanup(0);
});

if (opts.cluster) {
  const { clusterSandbox } = await import('./cluster-tour.ts');
  const code = await clusterSandbox({
    ...common,
    env: envFor('redis'),
    cli: cliOf(engine),
    engine: engine.label,
    pods: podCount,
    tour: !opts['no-tour'],
    say,
    bold,
  });
  if (opts.exit || code) await cleanup(code);
  say('\nthe cluster stays up. Ctrl-C stops everything.');
  await new Promise(() => {});
}

// ---- the live table ----
/** A pod's name for what Sentinel or ROLE answers: an IP, or with --hostnames a DNS name. */
const podNamed = (set: LocalCluster, host: string) =>
  set.podByIp(host)?.name ?? (host.includes('.svc.') ? host.split('.')[0] : host);
async function snapshot(): Promise<string[][]> {
  const rows: string[][] = [];
  for (const set of sets) {
    for (const i of set.ordinals) {
      const p = set.pod(i);
      const label = api.getObject('pods', set.ns, p.name)?.metadata.labels?.['redis-role'] ?? '-';
      const role = (await ask(p.ip, 6379, 'ROLE')) as unknown[] | undefined;
      const asked = sentinels ? sentinels.pod(i % sentinels.pods.size).ip : p.ip;
      const sent = (await ask(asked, 26379, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', set.masterSet)) as
        string[] | null | undefined;
      const offset = role ? String(role[0] === 'master' ? role[1] : role[4]) : '-';
      const sentinelSays = sent ? podNamed(set, sent[0]) : sent === null ? '(no master)' : '(down)';
      rows.push([
        set.masterSet,
        p.name,
        p.host?.fqdn && hostnames ? p.host.fqdn : p.ip,
        label,
        role ? String(role[0]) : '(down)',
        offset,
        sentinelSays,
      ]);
    }
  }
  for (const i of sentinels?.ordinals ?? []) {
    const p = sentinels!.pod(i);
    const masters = (await ask(p.ip, 26379, 'SENTINEL', 'MASTERS')) as string[][] | undefined;
    const names = masters
      ? masters
          .map((m) => m[m.indexOf('name') + 1])
          .sort()
          .join(',') || '(none)'
      : '(down)';
    rows.push(['-', p.name, p.host?.fqdn && hostnames ? p.host.fqdn : p.ip, '-', 'sentinel', '-', `monitors ${names}`]);
  }
  return rows;
}
function render(rows: string[][]): string {
  const head = ['SET', 'POD', hostnames ? 'NAME' : 'IP', 'LABEL redis-role', 'ROLE', 'OFFSET', 'SENTINEL SAYS MASTER'];
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all
    .map((r, n) => {
      const line = r.map((x, c) => x.padEnd(w[c])).join('  ');
      return n === 0 ? bold(line) : line;
    })
    .join('\n');
}
let lastTable = '';
let tableBusy = false;
async function printTableIfChanged(prefix = '') {
  if (tableBusy) return;
  tableBusy = true;
  try {
    const rows = await snapshot();
    const key = JSON.stringify(rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[6]]));
    if (key !== lastTable) {
      lastTable = key;
      say(`\n${prefix}${new Date().toISOString().slice(11, 23)}\n${render(rows)}`);
    }
  } finally {
    tableBusy = false;
  }
}
timers.table = setInterval(() => {
  void printTableIfChanged();
}, 250);

// ---- start ----
const layout = dedicated
  ? `${setCount} set(s) of ${podCount} Redis pods, watched by 3 dedicated Sentinel pods`
  : `${setCount === 1 ? '' : `${setCount} sets of `}${podCount} pods (Redis + Sentinel each)`;
say(
  bold(
    `redis-ha-launcher sandbox: ${layout} ` +
      `${network ? `in network namespaces with ${opts.ipv6 ? 'IPv6' : 'IPv4'} addresses` : 'on loopback'}` +
      `${hostnames ? ', known by DNS names' : ''}${tlsDir ? ', TLS only' : ''}, stand-in Kubernetes API at ${api.url}`,
  ),
);
if (opts.hostnames && !hostnames) say(`--hostnames needs pods with their own network, and ${noNetns}: using IPs`);
say(`running the bundled launcher ${bundle} on ${engine.label}; pod data under ${root}`);
say(
  'Sentinel: quorum 2, down-after 1000 ms, failover-timeout 5000 ms (a split first election retries after 2 x ' +
    'failover-timeout)',
);
const t0 = Date.now();
// Everything starts at once, as after kubectl apply: the Sentinel pods and every set.
await Promise.all([
  ...(sentinels ? [0, 1, 2].map((i) => sentinels.startPod(i)) : []),
  ...sets.flatMap((set) => Array.from({ length: podCount }, (_, i) => set.startPod(i))),
]);
const firstMasters = await Promise.all(
  sets.map((set) => waitFor(`a master of ${set.masterSet}`, () => set.labelledMasters()[0], 60_000)),
);
const bootMs = Date.now() - t0;
for (const set of sets) {
  await waitFor(
    `Sentinels agreeing on ${set.masterSet}`,
    async () => {
      const v = await set.sentinelViews();
      return v.every((x) => x && x === v[0]);
    },
    60_000,
    200,
  );
}
await printTableIfChanged();
const masterIp = (set: LocalCluster) => api.getObject('pods', set.ns, set.labelledMasters()[0])!.status.podIP as string;
say(`\n${bold('booted')}: ${firstMasters.join(', ')} labelled master after ${bootMs} ms; Sentinels agree.`);
const hostPort = (ip: string, port: number) => `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
const sentinelPods = sentinels ?? sets[0];
const kubeconfig = join(root, 'kubeconfig');
// With --hostnames the pods' names resolve only inside the pods' network (their hosts files): commands that talk
// to the pods run in one of them, as `kubectl exec` would.
const inPod = (set: LocalCluster) => (hostnames ? `ip netns exec ${set.pod(0).host!.ns} ` : '');
const namesEnv = (set: LocalCluster) =>
  hostnames ? `REDIS_HOSTNAMES=true REDIS_HEADLESS_SERVICE=${set.sts}-headless ` : '';
for (const set of sets) {
  const sel = `--pod-selector app=${set.sts}${sentinels ? ' --sentinel-selector app=sentinel' : ''}`;
  const setFlag = set.masterSet === 'mymaster' ? '' : ` --master-set ${set.masterSet}`;
  say(`\n${bold(`connect to ${set.masterSet}`)}`);
  say(`  master (what a Service selecting redis-role=master points at): ${redisCli(masterIp(set), 6379)}`);
  if (set === sets[0] || !sentinels) {
    say(`  sentinels: ${sentinelPods.ordinals.map((i) => hostPort(sentinelPods.pod(i).ip, 26379)).join(', ')}`);
  }
  say(`  ask a sentinel: ${redisCli(sentinelPods.pod(0).ip, 26379)} SENTINEL get-master-addr-by-name ${set.masterSet}`);
  say(
    `  why is a pod what it is: ${inPod(set)}KUBECONFIG=${kubeconfig} ${cmdEnv}POD_NAME=${set.sts}-1 ` +
      `POD_NAMESPACE=redis POD_IP=${set.pod(Math.min(1, podCount - 1)).ip} REDIS_POD_SELECTOR=app=${set.sts}` +
      (sentinels ? ' SENTINEL_POD_SELECTOR=app=sentinel' : '') +
      (setFlag ? ` REDIS_MASTER_SET=${set.masterSet}` : '') +
      ` ${namesEnv(set)}node ${bundle} role`,
  );
  const here = `${inPod(set)}KUBECONFIG=${kubeconfig} ${cmdEnv}${namesEnv(set)}node ${bundle}`;
  say(`  the whole set and its verdict: ${here} status ${sel}${setFlag} [-o json]`);
  say(`  a planned handover: ${here} switchover ${sel}${setFlag} [--to ${set.sts}-N] --wait`);
  say(`  maintenance mode: ${here} pause|resume ${sel}${setFlag}`);
}
if (sentinels) {
  say(
    `  what a Sentinel watches and why: KUBECONFIG=${kubeconfig} ${cmdEnv}POD_NAME=sentinel-0 POD_NAMESPACE=redis ` +
      `POD_IP=${sentinels.pod(0).ip} SENTINEL_POD_SELECTOR=app=sentinel SENTINEL_WATCH_SELECTOR=${WATCH}=sandbox ` +
      `node ${bundle} role --sentinel`,
  );
}
say(`  the API: KUBECONFIG=${kubeconfig} KUBECACHEDIR=${root}/kcache kubectl get pods -L redis-role`);

/** The tour of one set: keys, the master killed, the old master back with a new IP, every key counted. */
async function tour(set: LocalCluster): Promise<string> {
  const n = set.masterSet;
  say(`\n${bold(`tour 1/4 (${n})`)}: writing 1000 keys to the master, each batch acknowledged by the replicas (WAIT)`);
  const m = connect(masterIp(set), 6379);
  for (let b = 0; b < 10; b++) {
    const p = m.pipeline();
    for (let k = 0; k < 100; k++) p.set(`tour:${b * 100 + k}`, String(b * 100 + k));
    await p.exec();
  }
  const acked = await m.call('WAIT', String(podCount - 1), '10000');
  m.disconnect();
  say(`  1000 keys written; WAIT: ${acked} of ${podCount - 1} replicas have them`);

  const victim = set.labelledMasters()[0];
  const vi = Number(victim.split('-').pop());
  const oldIp = set.pod(vi).ip;
  const oldName = set.pod(vi).host?.fqdn;
  // Every other set settled first (a pod recreated in its tour may still be catching up), then its master label
  // must not move while this set fails over.
  const rest = sets.filter((x) => x !== set);
  for (const x of rest) await x.converged(`${x.masterSet} settled`, 60_000);
  const others = rest.map((x) => x.labelledMasters().join());
  say(`\n${bold(`tour 2/4 (${n})`)}: SIGKILL every process of the master ${victim} (${oldIp})`);
  const k0 = Date.now();
  await set.killPod(vi);
  const switched = await waitFor(
    'Sentinel switch',
    async () => {
      const v = await set.sentinelViews();
      const other = v.find((x) => x && !x.startsWith(`${oldIp}:`) && !(oldName && x.startsWith(`${oldName}:`)));
      return other && v.filter((x) => x === other).length >= 2 ? other : undefined;
    },
    60_000,
    20,
  );
  const switchMs = Date.now() - k0;
  const newMaster = await waitFor(
    'labels flipped',
    () => {
      const ms = set.labelledMasters();
      return ms.length === 1 && ms[0] !== victim ? ms[0] : undefined;
    },
    60_000,
    10,
  );
  const flipMs = Date.now() - k0;
  await printTableIfChanged();
  say(`\n  kill -> Sentinel switch to ${switched}: ${switchMs} ms`);
  say(
    `  kill -> labels flipped (${newMaster} master, ${victim} not): ${flipMs} ms (${flipMs - switchMs} ms after the ` +
      `switch)`,
  );
  const moved = rest.filter((x, i) => x.labelledMasters().join() !== others[i]);
  if (sets.length > 1) say(`  the other sets' master labels ${moved.length ? 'MOVED' : 'did not move'}`);

  say(`\n${bold(`tour 3/4 (${n})`)}: ${victim} comes back (recreated, new IP) and must rejoin as a replica`);
  const r0 = Date.now();
  const back = await set.recreatePod(vi, 'kill');
  await waitFor('old master back as replica', async () => (await set.role(vi)) === 'slave', 60_000, 100);
  await printTableIfChanged();
  say(`  ${victim} back at ${back.ip} as a replica of ${newMaster} after ${Date.now() - r0} ms`);

  say(`\n${bold(`tour 4/4 (${n})`)}: every key is still there`);
  for (const i of set.ordinals) {
    await waitFor(
      `keys on ${set.pod(i).name}`,
      async () => Number(await ask(set.pod(i).ip, 6379, 'DBSIZE')) >= 1000,
      60_000,
      200,
    );
    const c = connect(set.pod(i).ip, 6379);
    const vals = await c.mget(...Array.from({ length: 1000 }, (_, k) => `tour:${k}`));
    c.disconnect();
    const ok = vals.filter((v, k) => v === String(k)).length;
    say(`  ${set.pod(i).name}: ${ok}/1000 keys`);
    if (ok !== 1000 || moved.length) {
      say(ok !== 1000 ? '  KEYS MISSING' : '  ANOTHER SET MOVED');
      await cleanup(1);
    }
  }
  return `${n}: kill -> Sentinel switch ${switchMs} ms; kill -> labels flipped ${flipMs} ms`;
}

if (!opts['no-tour']) {
  const lines: string[] = [];
  for (const set of sets) lines.push(await tour(set));
  say(`\n${bold('summary')}: boot ${bootMs} ms; ${lines.join('; ')}; no key lost.`);
  // The tour ends with the on-call view: launcher status, once the returned pods have caught up.
  for (const set of sets) {
    const args = ['status', '--pod-selector', `app=${set.sts}`];
    if (sentinels) args.push('--sentinel-selector', 'app=sentinel');
    if (set.masterSet !== 'mymaster') args.push('--master-set', set.masterSet);
    const [file, ...pre] = hostnames ? [...network!.exec(set.pod(0).host!), process.execPath] : [process.execPath];
    const runStatus = () =>
      execa(file, [...pre, bundle, ...args], {
        env: {
          KUBECONFIG: kubeconfig,
          PATH: process.env.PATH ?? '',
          ...secretEnv,
          ...(hostnames ? { REDIS_HOSTNAMES: 'true', REDIS_HEADLESS_SERVICE: `${set.sts}-headless` } : {}),
        },
        extendEnv: false,
        reject: false,
      });
    let st = await runStatus();
    for (const until = Date.now() + 30_000; st.exitCode !== 0 && Date.now() < until;) st = await runStatus();
    const shown = `${inPod(set)}KUBECONFIG=${kubeconfig} ${cmdEnv}${namesEnv(set)}node ${bundle} ${args.join(' ')}`;
    say(`\n${bold('launcher status')} (${shown}):\n${String(st.stdout)}`);
  }
}
if (opts.exit) await cleanup(0);
say(`\nthe sets stay up; the table is printed whenever something changes. Ctrl-C stops everything.`);
