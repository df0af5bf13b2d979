// `npm run sandbox`: the whole story on one machine. 3 pods (Redis + Sentinel each) on their own loopback
// addresses, running the bundled launcher (what ships) against the stand-in Kubernetes API; a live table; then a
// guided tour: write keys, kill the master, watch the failover, bring the old master back, check every key.
//   --no-tour   keep the cluster up until Ctrl-C
//   --pods N    how many pods (default 3)
//   --exit      stop after the tour
//   --ipv6      every pod in its own network namespace with an IPv6 (ULA) address only (needs root and `ip netns`)
//   --tls       TLS only (a throw-away CA made with openssl; certificates in cert-manager's layout)
//   --password  Redis and Sentinel require a (random) password, read from a file as from a mounted Secret
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { LocalCluster, REPO } from '../support/cluster.ts';
import { imageNodeFlags } from '../support/image.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { Network } from '../support/netns.ts';
import { stopAll } from '../support/processes.ts';
import { askWith, connect as connectRedis } from '../support/redis.ts';
import { clientTls, issue, makeCa, projectSecret } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const { values: opts } = parseArgs({
  options: {
    'no-tour': { type: 'boolean' },
    pods: { type: 'string', default: '3' },
    exit: { type: 'boolean' },
    ipv6: { type: 'boolean' },
    tls: { type: 'boolean' },
    password: { type: 'boolean' },
  },
});
const podCount = Number(opts.pods);
if (!Number.isInteger(podCount) || podCount < 1 || podCount > 9) {
  console.error(`sandbox: --pods ${JSON.stringify(opts.pods)} is invalid: expected a whole number from 1 to 9`);
  process.exit(2);
}
const missing = ['redis-server', 'redis-sentinel'].filter(
  (b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status !== 0,
);
if (missing.length) {
  console.error(
    `sandbox: ${missing.join(' and ')} not found. Install the Debian packages: sudo apt-get install ` +
      `${missing.join(' ')}`,
  );
  process.exit(1);
}
const bundle = join(REPO, 'image/dist/launcher.mjs');
if (!existsSync(bundle)) {
  console.error(
    'sandbox: the bundle image/dist/launcher.mjs is missing; run `npm run build` (npm run sandbox does it for you)',
  );
  process.exit(1);
}

const noNetns = opts.ipv6 ? Network.unavailable() : undefined;
if (noNetns) {
  console.error(`sandbox: --ipv6 needs pods with their own network, and ${noNetns}`);
  process.exit(1);
}

const say = (s = '') => process.stdout.write(s + '\n');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const root = await mkdtemp(join(tmpdir(), 'redis-ha-sandbox-'));
// kubectl sends no token over plain http (kubernetes/kubectl#744): the sandbox lets anonymous requests in, so it works.
const network = opts.ipv6 ? Network.create(undefined, { ipv6: true }) : undefined;
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
const tlsEnv = Object.entries(secretEnv)
  .map(([k, v]) => `${k}=${v} `)
  .join('');
const redisCli = (host: string, port: number) =>
  `${passwordFile ? `REDISCLI_AUTH="$(cat ${passwordFile})" ` : ''}redis-cli ` +
  `${tlsDir ? `--tls --cacert ${tlsDir}/ca.crt ` : ''}-h ${host} -p ${port}`;
const api = await new KubeStandin({ anonymous: { user: 'system:anonymous' } }).start({ host: network?.gateway });
const cluster = await new LocalCluster({
  api,
  root,
  network,
  launcher: bundle,
  entrypoint: [process.execPath, ...imageNodeFlags(), bundle], // as the image runs it
  env: { LAUNCHER_WAIT_TIMEOUT_MS: '120000', ...secretEnv },
  tls: tls && (() => tls),
  password,
}).init();
const kubeconfig = join(root, 'kubeconfig');

let cleaning = false;
async function cleanup(code: number) {
  if (cleaning) return;
  cleaning = true;
  clearInterval(tableTimer);
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

// ---- the live table ----
async function snapshot(): Promise<string[][]> {
  const rows: string[][] = [];
  for (const i of cluster.ordinals) {
    const p = cluster.pod(i);
    const label = api.getObject('pods', cluster.ns, p.name)?.metadata.labels?.['redis-role'] ?? '-';
    const role = (await ask(p.ip, 6379, 'ROLE')) as unknown[] | undefined;
    const sent = (await ask(p.ip, 26379, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as
      string[] | null | undefined;
    const offset = role ? String(role[0] === 'master' ? role[1] : role[4]) : '-';
    const sentinelSays = sent ? (cluster.podByIp(sent[0])?.name ?? sent[0]) : sent === null ? '(no master)' : '(down)';
    rows.push([p.name, p.ip, label, role ? String(role[0]) : '(down)', offset, sentinelSays]);
  }
  return rows;
}
function render(rows: string[][]): string {
  const head = ['POD', 'IP', 'LABEL redis-role', 'ROLE', 'OFFSET', 'SENTINEL SAYS MASTER'];
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
    const key = JSON.stringify(rows.map((r) => [r[0], r[1], r[2], r[3], r[5]]));
    if (key !== lastTable) {
      lastTable = key;
      say(`\n${prefix}${new Date().toISOString().slice(11, 23)}\n${render(rows)}`);
    }
  } finally {
    tableBusy = false;
  }
}
const tableTimer = setInterval(() => {
  void printTableIfChanged();
}, 250);

// ---- start ----
say(
  bold(
    `redis-ha-launcher sandbox: ${podCount} pods (Redis + Sentinel each) ` +
      `${network ? 'in network namespaces with IPv6 addresses' : 'on loopback'}${tlsDir ? ', TLS only' : ''}, ` +
      `stand-in Kubernetes API at ${api.url}`,
  ),
);
say(`running the bundled launcher ${bundle}; pod data under ${root}`);
say(
  'Sentinel: quorum 2, down-after 1000 ms, failover-timeout 5000 ms (a split first election retries after 2 x ' +
    'failover-timeout)',
);
const t0 = Date.now();
await Promise.all(Array.from({ length: podCount }, (_, i) => cluster.startPod(i)));
const firstMaster = await waitFor('a master', () => cluster.labelledMasters()[0], 60_000);
const bootMs = Date.now() - t0;
await waitFor(
  'Sentinels agreeing',
  async () => {
    const v = await cluster.sentinelViews();
    return v.every((x) => x && x === v[0]);
  },
  60_000,
  200,
);
await printTableIfChanged();
const masterIp = () => api.getObject('pods', cluster.ns, cluster.labelledMasters()[0])!.status.podIP as string;
say(`\n${bold('booted')}: ${firstMaster} labelled master after ${bootMs} ms; Sentinels agree.`);
say(`\n${bold('connect')}`);
say(`  master (what a Service selecting redis-role=master points at): ${redisCli(masterIp(), 6379)}`);
const hostPort = (ip: string, port: number) => `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
say(`  sentinels: ${cluster.ordinals.map((i) => hostPort(cluster.pod(i).ip, 26379)).join(', ')}`);
say(`  ask a sentinel: ${redisCli(cluster.pod(0).ip, 26379)} SENTINEL get-master-addr-by-name mymaster`);
say(
  `  why is a pod what it is: KUBECONFIG=${kubeconfig} ${tlsEnv}POD_NAME=redis-1 POD_NAMESPACE=redis ` +
    `POD_IP=${cluster.pod(Math.min(1, podCount - 1)).ip} REDIS_POD_SELECTOR=app=redis node ${bundle} role`,
);
say(`  the API: KUBECONFIG=${kubeconfig} KUBECACHEDIR=${root}/kcache kubectl get pods -L redis-role`);
const statusCommand = `KUBECONFIG=${kubeconfig} ${tlsEnv}node ${bundle} status --pod-selector app=redis`;
say(`  the whole set and its verdict: ${statusCommand} [-o json]`);
const cli = `KUBECONFIG=${kubeconfig} ${tlsEnv}node ${bundle}`;
say(`  a planned handover: ${cli} switchover --pod-selector app=redis [--to redis-N] --wait`);
say(`  maintenance mode: ${cli} pause|resume --pod-selector app=redis`);

if (!opts['no-tour']) {
  say(`\n${bold('tour 1/4')}: writing 1000 keys to the master, each batch acknowledged by the replicas (WAIT)`);
  const m = connect(masterIp(), 6379);
  for (let b = 0; b < 10; b++) {
    const p = m.pipeline();
    for (let k = 0; k < 100; k++) p.set(`tour:${b * 100 + k}`, String(b * 100 + k));
    await p.exec();
  }
  const acked = await m.call('WAIT', String(podCount - 1), '10000');
  m.disconnect();
  say(`  1000 keys written; WAIT: ${acked} of ${podCount - 1} replicas have them`);

  const victim = cluster.labelledMasters()[0];
  const vi = Number(victim.split('-').pop());
  const oldIp = cluster.pod(vi).ip;
  say(`\n${bold('tour 2/4')}: SIGKILL every process of the master ${victim} (${oldIp})`);
  const k0 = Date.now();
  await cluster.killPod(vi);
  const switched = await waitFor(
    'Sentinel switch',
    async () => {
      const v = await cluster.sentinelViews();
      const other = v.find((x) => x && !x.startsWith(`${oldIp}:`));
      return other && v.filter((x) => x === other).length >= 2 ? other : undefined;
    },
    60_000,
    20,
  );
  const switchMs = Date.now() - k0;
  const newMaster = await waitFor(
    'labels flipped',
    () => {
      const ms = cluster.labelledMasters();
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

  say(`\n${bold('tour 3/4')}: ${victim} comes back (recreated, new IP) and must rejoin as a replica`);
  const r0 = Date.now();
  const back = await cluster.recreatePod(vi, 'kill');
  await waitFor('old master back as replica', async () => (await cluster.role(vi)) === 'slave', 60_000, 100);
  await printTableIfChanged();
  say(`  ${victim} back at ${back.ip} as a replica of ${newMaster} after ${Date.now() - r0} ms`);

  say(`\n${bold('tour 4/4')}: every key is still there`);
  for (const i of cluster.ordinals) {
    await waitFor(
      `keys on ${cluster.pod(i).name}`,
      async () => Number(await ask(cluster.pod(i).ip, 6379, 'DBSIZE')) >= 1000,
      60_000,
      200,
    );
    const c = connect(cluster.pod(i).ip, 6379);
    const vals = await c.mget(...Array.from({ length: 1000 }, (_, k) => `tour:${k}`));
    c.disconnect();
    const ok = vals.filter((v, k) => v === String(k)).length;
    say(`  ${cluster.pod(i).name}: ${ok}/1000 keys`);
    if (ok !== 1000) {
      say('  KEYS MISSING');
      await cleanup(1);
    }
  }
  say(
    `\n${bold('summary')}: boot ${bootMs} ms; kill -> Sentinel switch ${switchMs} ms; kill -> labels flipped ` +
      `${flipMs} ms; no key lost.`,
  );
  // The tour ends with the on-call view: launcher status, once the returned pod has caught up.
  const runStatus = () =>
    execa(process.execPath, [bundle, 'status', '--pod-selector', 'app=redis'], {
      env: { KUBECONFIG: kubeconfig, PATH: process.env.PATH ?? '', ...secretEnv },
      extendEnv: false,
      reject: false,
    });
  let st = await runStatus();
  for (const until = Date.now() + 30_000; st.exitCode !== 0 && Date.now() < until;) st = await runStatus();
  say(`\n${bold('launcher status')} (${statusCommand}):\n${String(st.stdout)}`);
}
if (opts.exit) await cleanup(0);
say(`\nthe cluster stays up; the table is printed whenever something changes. Ctrl-C stops everything.`);
