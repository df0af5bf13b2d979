// `launcher status` against real processes: the verdict on a healthy set (from a workstation's kubeconfig and a
// selector, read-only), with labels wrong on purpose, with a Sentinel that does not answer, with a stale second
// master, and during a failover. Exit 0 healthy, 1 degraded.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { REPO, testCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

test('launcher status: healthy, labels wrong, a Sentinel down, a stale master, a failover', async (t) => {
  // Reconcile once a minute: the wrong label stays while status looks (a role change still acts at once).
  const { api, root, c } = await testCluster(t, 'status', { env: { LAUNCHER_RECONCILE_MS: '60000' } });
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const ord = (name: string) => Number(name.split('-').pop());
  const [r1, r2] = c.ordinals.filter((i) => i !== ord(master));

  // From a workstation: a kubeconfig (its own token, to tell status's requests apart) and the selector.
  const token = 'status-only';
  api.tokens[token] = { user: 'someone@example.com' };
  const kubeconfig = await api.writeKubeconfig(root, { namespace: c.ns, token, file: 'status-kubeconfig' });
  const writes: string[] = [];
  const listen = (r: { method: string; url: string; headers: Record<string, unknown> }) => {
    if (r.headers.authorization === `Bearer ${token}` && r.method !== 'GET') writes.push(`${r.method} ${r.url}`);
  };
  api.requestListeners.add(listen);
  t.after(() => api.requestListeners.delete(listen));
  const status = async (...args: string[]) => {
    const r = await execa(
      process.execPath,
      [join(REPO, 'bin/launcher'), 'status', '--pod-selector', c.selector, ...args],
      {
        env: { PATH: process.env.PATH ?? '', KUBECONFIG: kubeconfig },
        extendEnv: false,
        reject: false,
        timeout: 20_000,
      },
    );
    return { code: r.exitCode, out: String(r.stdout), err: String(r.stderr) };
  };

  // Right after boot a replica may still be in its handshake (degraded, rightly): healthy once every link is up.
  const healthy = await waitFor('status says healthy', async () => {
    const r = await status();
    return r.code === 0 ? r : undefined;
  });
  assert.match(healthy.out, new RegExp(`^verdict: healthy \\(master ${master}\\)$`, 'm'));
  assert.match(healthy.out, /^POD +NODE +IP +LABEL +READY +ROLE +ENGINE +OFFSET +LAG +LINK +SENTINEL NAMES$/m);
  for (const i of c.ordinals) {
    assert.match(healthy.out, new RegExp(`^${c.pod(i).name} .* redis \\d+\\.\\d+\\.\\d+ `, 'm'));
  }
  assert.match(healthy.out, new RegExp(`^master of record: ${master}$`, 'm'));
  const asJson = await status('-o', 'json');
  assert.equal(asJson.code, 0);
  const doc = JSON.parse(asJson.out) as { verdict: string; master: string; rows: unknown[]; problems: string[] };
  assert.deepEqual([doc.verdict, doc.master, doc.rows.length, doc.problems], ['healthy', master, 3, []]);
  const bad = await status('-o', 'yaml');
  assert.equal(bad.code, 2);
  assert.match(
    bad.err.trim(),
    /^launcher: output format "yaml" is invalid: expected json; see 'launcher status --help'$/,
  );

  // Labels wrong on purpose: a replica labelled master.
  const wrong = c.pod(r1).name;
  const pod = api.getObject('pods', c.ns, wrong)!;
  api.put('pods', {
    ...pod,
    metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, 'redis-role': 'master' } },
  });
  const labels = await status();
  assert.equal(labels.code, 1);
  assert.match(labels.out, new RegExp(`^verdict: degraded: ${wrong} is labelled master but answers ROLE slave$`, 'm'));
  const fixed = api.getObject('pods', c.ns, wrong)!;
  api.put('pods', {
    ...fixed,
    metadata: { ...fixed.metadata, labels: { ...fixed.metadata.labels, 'redis-role': 'slave' } },
  });

  // A Sentinel that does not answer (its container frozen).
  const frozen = c.pod(r2);
  frozen.sentinel?.signal('SIGSTOP');
  const sentinelDown = await status();
  frozen.sentinel?.signal('SIGCONT');
  assert.equal(sentinelDown.code, 1);
  assert.match(sentinelDown.out, new RegExp(`the Sentinel of ${frozen.name} does not answer`));

  // A stale second master while its supervisor is stuck; healed once it runs again.
  const stale = c.pod(r1);
  stale.redis?.signalLeader('SIGSTOP');
  await ask(stale.ip, 6379, 'REPLICAOF', 'NO', 'ONE');
  const twoMasters = await status();
  stale.redis?.signalLeader('SIGCONT');
  assert.equal(twoMasters.code, 1);
  assert.match(twoMasters.out, new RegExp(`2 pods answer ROLE master: .*${stale.name}`));
  assert.match(twoMasters.out, new RegExp(`${stale.name} is labelled slave but answers ROLE master`));
  await c.converged('healed', 30_000);
  await waitFor('healthy again', async () => ((await status()).code === 0 ? true : undefined), 30_000);

  // During a failover: the master gone.
  await c.killPod(ord(master));
  const failing = await status();
  assert.equal(failing.code, 1);
  assert.match(failing.out, /^verdict: degraded: /m);
  assert.match(failing.out, /no pod answers ROLE master|a failover is in progress|a dead master|does not answer/);
  assert.deepEqual(writes, [], 'status writes nothing');
});
