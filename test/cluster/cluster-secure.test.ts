// Redis Cluster mode over TLS only (client certificates required) with the least-privilege ACL users: clients,
// replication and the cluster bus speak TLS, plaintext is off; replicas authenticate as `replication`, the
// launcher as `launcher` (with the CLUSTER subcommands it sends, nothing else), the default user keeps the
// application's password. The cluster forms, a cluster-aware TLS client writes 1,000 keys, a master handed SIGTERM
// hands its slots over (CLUSTER FAILOVER through TLS and the ACL), `launcher status` and `launcher cluster
// rebalance` (redis-cli over TLS) work, a rotated certificate is served by every node without a restart, and no
// launcher was ever refused a command.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cluster } from 'ioredis';
import { parseClusterNodes } from '../../src/cluster/rules/nodes.ts';
import { keptLog, testCluster } from '../support/cluster.ts';
import { ask, askWith } from '../support/redis.ts';
import { clientTls, fingerprintOf, issue, makeCa, projectSecret, servedCertificate } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const PODS = [0, 1, 2, 3, 4, 5];
const PW = { app: 'app-secret', launcher: 'launcher-secret', replication: 'repl-secret' };
const KEYS = 1000;

test('cluster mode over TLS with ACL users: formed, written, handed over, scaled by redis-cli', async (t) => {
  const kept = keptLog();
  let dir = '';
  let rotated = '';
  let ca: ReturnType<typeof makeCa> | undefined;
  const { api, c } = await testCluster(t, 'cluster-secure', async (root) => {
    ca = makeCa(join(root, 'ca'));
    dir = projectSecret(join(root, 'tls'), issue(ca, join(root, 'issued')));
    rotated = join(root, 'issued-2');
    const files = {
      REDIS_PASSWORD_FILE: PW.app,
      REDIS_ACL_LAUNCHER_PASSWORD_FILE: PW.launcher,
      REDIS_ACL_REPLICATION_PASSWORD_FILE: PW.replication,
    };
    const env: Record<string, string> = {
      CLUSTER_MODE: 'true',
      CLUSTER_NODE_TIMEOUT_MS: '3000',
      REDIS_TLS_DIR: dir,
      REDIS_TLS_AUTH_CLIENTS: 'yes',
    };
    for (const [k, v] of Object.entries(files)) {
      await writeFile(join(root, k), `${v}\n`, { mode: 0o600 });
      env[k] = join(root, k);
    }
    return {
      containers: 'redis',
      env,
      password: PW.app,
      tls: () => clientTls(dir),
      log: kept.log,
      // The launchers have exactly the Role of the cluster overlay.
      rbacFromManifests: 'overlays/cluster',
    };
  });
  const auth = () => ({ password: PW.app, tls: clientTls(dir) });
  const nodesOf = async (i: number) =>
    parseClusterNodes(String(await askWith(auth(), c.pod(i).ip, 6379, 'CLUSTER', 'NODES')));
  const whole = (what: string) =>
    waitFor(
      what,
      async () => {
        for (const i of c.ordinals) {
          const info = String(await askWith(auth(), c.pod(i).ip, 6379, 'CLUSTER', 'INFO'));
          if (!/cluster_state:ok/.test(info) || !/cluster_known_nodes:6\b/.test(info)) return false;
        }
        const nodes = await nodesOf(0);
        return nodes.filter((n) => n.masterId && !n.flags.includes('fail')).length === 3;
      },
      60_000,
      250,
    );
  await c.startAll(PODS);
  await whole('the cluster formed over TLS');
  assert.equal(await ask(c.pod(0).ip, 6379, 'PING'), undefined, 'no plaintext answer');

  const client = new Cluster([{ host: c.pod(0).ip, port: 6379 }], {
    redisOptions: { password: PW.app, tls: clientTls(dir), connectTimeout: 2000 },
  });
  client.on('error', () => {});
  t.after(() => client.disconnect());
  for (let b = 0; b < KEYS / 250; b++) {
    await Promise.all(Array.from({ length: 250 }, (_, k) => client.set(`k:${b * 250 + k}`, String(b * 250 + k))));
  }

  // Each master's replica replicates as `replication`.
  const nodes = await nodesOf(0);
  const masters = nodes.filter((n) => n.flags.includes('master'));
  const ordOf = (host: string) => c.ordinals.find((i) => c.pod(i).ip === host)!;
  for (const m of masters) {
    const list = String(await askWith(auth(), m.host, 6379, 'CLIENT', 'LIST', 'TYPE', 'replica'));
    assert.match(list, /user=replication/, `${c.pod(ordOf(m.host)).name}'s replica is the replication user`);
    const r = nodes.find((n) => n.masterId === m.id)!;
    await waitFor(
      `${c.pod(ordOf(r.host)).name} has its master's keys`,
      async () => {
        const [a, b] = await Promise.all([m, r].map((n) => askWith(auth(), n.host, 6379, 'DBSIZE')));
        return Number(a) > 0 && a === b;
      },
      10_000,
      100,
    );
  }

  // SIGTERM to a master: its replica takes over at once (CLUSTER FAILOVER over TLS, as `launcher`).
  const term = ordOf(masters[0].host);
  const heir = ordOf(nodes.find((n) => n.masterId === masters[0].id)!.host);
  const t0 = Date.now();
  const stopping = c.stopPod(term);
  const took = await waitFor(
    `${c.pod(heir).name} takes over`,
    async () =>
      (await nodesOf(heir)).find((n) => n.flags.includes('myself'))?.flags.includes('master')
        ? Date.now() - t0
        : undefined,
    20_000,
    20,
  );
  await stopping;
  t.diagnostic(`SIGTERM to ${c.pod(term).name}: ${c.pod(heir).name} took over after ${took} ms`);
  assert.ok(took < 3000, `handed over within the node timeout: ${took} ms`);
  api.deleteObject('pods', c.ns, c.pod(term).name);
  await c.startPod(term, { newIp: true });
  await whole(`${c.pod(term).name} back`);

  const status = await c.statusHealthy(1);
  assert.match(status.stdout, /verdict: healthy \(3 masters, 16384 slots served\)/);
  const rebalance = await c.launcherCommand(1, ['cluster', 'rebalance']);
  assert.equal(rebalance.exitCode, 0, rebalance.stdout + rebalance.stderr);
  // A slot move stopped half-way (a kubectl exec cut off mid-rebalance): the slot of k:0 MIGRATING on its owner,
  // IMPORTING on another master, its keys still there. Status names it; rebalance closes it and keeps every key.
  const now = await nodesOf(1);
  const slot = Number(await askWith(auth(), c.pod(1).ip, 6379, 'CLUSTER', 'KEYSLOT', 'k:0'));
  const src = now.find((n) => n.slots.some(([a, b]) => a <= slot && slot <= b))!;
  const dst = now.find((n) => n.flags.includes('master') && n.slots.length && n.id !== src.id)!;
  assert.equal(await askWith(auth(), dst.host, 6379, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', src.id), 'OK');
  assert.equal(await askWith(auth(), src.host, 6379, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', dst.id), 'OK');
  const open = await c.launcherCommand(1, ['status']);
  assert.equal(open.exitCode, 1, open.stdout + open.stderr);
  const [srcPod, dstPod] = [src, dst].map((n) => c.pod(ordOf(n.host)).name);
  assert.match(open.stdout, new RegExp(`${srcPod} has slot ${slot} open, migrating to ${dstPod}`));
  assert.match(open.stdout, new RegExp(`${dstPod} has slot ${slot} open, importing from ${srcPod}`));
  const closed = await c.launcherCommand(1, ['cluster', 'rebalance']);
  assert.equal(closed.exitCode, 0, closed.stdout + closed.stderr);
  t.diagnostic(
    `an open slot closed by rebalance: ${closed.stdout.split('\n').find((l) => /closing open slots/.test(l))}`,
  );
  await c.statusHealthy(1);
  // The Secret is rotated (a new certificate of the same CA): every node serves it to new connections, the cluster
  // stays whole, no restart.
  projectSecret(dir, issue(ca!, rotated));
  const want = fingerprintOf(join(dir, 'tls.crt'));
  await waitFor(
    'every node serves the rotated certificate',
    async () => {
      const served = await Promise.all(
        c.ordinals.map((i) => servedCertificate(c.pod(i).ip, 6379, clientTls(dir)).catch(() => '')),
      );
      return served.every((f) => f === want);
    },
    20_000,
    250,
  );
  await whole('the cluster whole after the rotation');
  const values = await Promise.all(Array.from({ length: KEYS }, (_, k) => client.get(`k:${k}`)));
  assert.equal(values.filter((v, k) => v === String(k)).length, KEYS, 'every key read back');
  // A refused API call reads "... is forbidden: User ... cannot ..." (or "HTTP 403" without a Status body); a bare
  // 403 also matched a Redis log line's milliseconds (02:10:41.403).
  const refused = kept.lines.filter((l) => /NOPERM|WRONGPASS|NOAUTH|[Ff]orbidden|HTTP 40[13]|Unauthorized/.test(l));
  assert.deepEqual(refused, [], 'no launcher was refused a command or an API call');
  // Redis' own record of every command or key an ACL user was denied, and every failed AUTH: empty everywhere.
  for (const i of c.ordinals) {
    assert.deepEqual(await askWith(auth(), c.pod(i).ip, 6379, 'ACL', 'LOG'), [], `${c.pod(i).name}: ACL LOG empty`);
  }
});
