// podManagementPolicy: OrderedReady (Kubernetes' default when unset) deadlocks a full restart whose master of record
// is not the lowest ordinal: that pod waits for the record pod, which the controller creates only once it is Ready
// (and a sidecar Sentinel is Ready only with its quorum, which one pod never has). `launcher run` refuses it at
// start, in every container, with one line and a Warning Event, before it writes anything.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { REPO } from '../support/cluster.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { loopbackAddress } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'ordered';
let api: KubeStandin;
let root: string;
let kubeconfig: string;
const ip = loopbackAddress();

before(async () => {
  api = await new KubeStandin().start();
  root = await mkdtemp(join(tmpdir(), 'rhl-ordered-'));
  kubeconfig = await api.writeKubeconfig(root, { namespace: NS });
  api.put('pods', statefulSetPod({ sts: 'redis', ordinal: 0, namespace: NS, labels: { app: 'redis' } }));
  setPodState(api, NS, 'redis-0', { phase: 'Running', podIP: ip, ready: false });
});
after(async () => {
  await api.close();
  await rm(root, { recursive: true, force: true });
});

const putSet = (policy?: string, replicas = 3) =>
  api.put('statefulsets', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'redis', namespace: NS },
    spec: {
      replicas,
      serviceName: 'redis-headless',
      selector: { matchLabels: { app: 'redis' } },
      ...(policy ? { podManagementPolicy: policy } : {}),
      template: { metadata: { labels: { app: 'redis' } } },
    },
  });

const run = (name: string, args: string[]) =>
  execa(join(REPO, 'bin/launcher'), ['run', ...args], {
    env: {
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      KUBECONFIG: kubeconfig,
      POD_NAME: 'redis-0',
      POD_NAMESPACE: NS,
      POD_IP: ip,
      LISTEN_ADDRESS: ip,
      REDIS_POD_SELECTOR: 'app=redis',
      REDIS_CONF_DIR: join(root, name, 'conf'),
      REDIS_DATA_DIR: join(root, name, 'data'),
      LAUNCHER_HTTP_PORT: '0',
    },
    reject: false,
    timeout: 20_000,
  });

for (const [policy, args] of [
  ['OrderedReady', []],
  [undefined, []],
  ['OrderedReady', ['--sentinel']],
] as const) {
  const what = `podManagementPolicy ${policy ?? 'unset (OrderedReady)'}: launcher ${['run', ...args].join(' ')}`;
  test(`${what} refuses`, async () => {
    putSet(policy);
    const name = `${policy ?? 'unset'}${args.join('')}`;
    const events = api.listObjects('events', NS).length;
    const r = await run(name, [...args]);
    assert.equal(r.exitCode, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /StatefulSet redis has podManagementPolicy OrderedReady/);
    assert.match(lines[0], /Parallel/);
    const warning = api.listObjects('events', NS).slice(events);
    assert.ok(
      warning.some((e) => e.type === 'Warning' && /OrderedReady/.test(e.message)),
      JSON.stringify(warning),
    );
    const written = await readdir(join(root, name, 'conf')).catch(() => []);
    assert.deepEqual(written, [], 'nothing written');
  });
}

test('podManagementPolicy OrderedReady with one replica: not refused (no pod waits for another)', async () => {
  putSet('OrderedReady', 1);
  const p = run('single', ['--sentinel']);
  let said = '';
  p.stderr?.on('data', (b: Buffer) => (said += b.toString()));
  try {
    // Past the check: the Sentinel looks for a master (there is none here).
    await waitFor('the Sentinel to look for a master', () => /sentinel waits/.test(said), 20_000);
    assert.doesNotMatch(said, /podManagementPolicy/);
  } finally {
    p.kill();
    await p;
  }
});
