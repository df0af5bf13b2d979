// kubectl 1.32 as a real client of the stand-in: discovery, selectors, jsonpath, label patches, conflicts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { connectKube } from '../../src/kube/api.ts';
import { emitEvent } from '../../src/kube/events.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const skip = hasKubectl ? false : 'kubectl is not installed on this machine';
const NS = 'redis';
let api: KubeStandin;
let env: Record<string, string>;
let dir: string | undefined;

before(async () => {
  // kubectl sends no credentials over plain http (kubernetes/kubectl#744): anonymous requests act as an admin here.
  api = await new KubeStandin({ anonymous: { user: 'system:anonymous' } }).start();
  for (const [i, role] of ['master', 'slave', 'slave'].entries()) {
    api.put(
      'pods',
      statefulSetPod({ sts: 'redis', ordinal: i, namespace: NS, labels: { app: 'redis', 'redis-role': role } }),
    );
    setPodState(api, NS, `redis-${i}`, { phase: 'Running', podIP: `10.0.0.${i + 1}`, ready: true });
  }
  dir = await mkdtemp(join(tmpdir(), 'rhl-kubectl-'));
  env = { KUBECONFIG: await api.writeKubeconfig(dir, { namespace: NS }), KUBECACHEDIR: `${dir}/cache`, HOME: dir };
});
after(async () => {
  await api?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const kubectl = (...args: string[]) => execa('kubectl', args, { env, extendEnv: true, reject: false, timeout: 20_000 });

test('get pods -l with several selector forms', { skip }, async () => {
  const q = async (sel: string) =>
    (await kubectl('get', 'pods', '-l', sel, '-o', 'name')).stdout.split('\n').filter(Boolean);
  assert.deepEqual(await q('app=redis,redis-role=master'), ['pod/redis-0']);
  assert.deepEqual(await q('redis-role notin (master)'), ['pod/redis-1', 'pod/redis-2']);
  assert.deepEqual(await q('redis-role in (master,slave),app'), ['pod/redis-0', 'pod/redis-1', 'pod/redis-2']);
  assert.deepEqual(await q('!nothere'), ['pod/redis-0', 'pod/redis-1', 'pod/redis-2']);
  const plain = await kubectl('get', 'pods', '-l', 'app=redis');
  assert.equal(plain.exitCode, 0, plain.stderr);
  assert.match(plain.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/, 'the server-side Table');
  const bad = await kubectl('get', 'pods', '-l', 'role in (a');
  assert.notEqual(bad.exitCode, 0);
  assert.match(bad.stderr, /unable to parse requirement/);
});

test('get -o jsonpath reads fields', { skip }, async () => {
  const r = await kubectl('get', 'pods', '-l', 'redis-role=master', '-o', 'jsonpath={.items[*].status.podIP}');
  assert.equal(r.stdout, '10.0.0.1');
  const one = await kubectl('get', 'pod', 'redis-1', '-o', 'jsonpath={.metadata.labels.redis-role}');
  assert.equal(one.stdout, 'slave');
});

test('label --overwrite, key- removal, and a conflict on a stale resource version', { skip }, async () => {
  const over = await kubectl('label', 'pod', 'redis-1', 'redis-role=master', '--overwrite');
  assert.equal(over.exitCode, 0, over.stderr);
  assert.equal(api.getObject('pods', NS, 'redis-1')!.metadata.labels!['redis-role'], 'master');
  const noOverwrite = await kubectl('label', 'pod', 'redis-1', 'redis-role=slave');
  assert.notEqual(noOverwrite.exitCode, 0);
  assert.match(noOverwrite.stderr, /already has a value/);
  const rm = await kubectl('label', 'pod', 'redis-1', 'redis-role-');
  assert.equal(rm.exitCode, 0, rm.stderr);
  assert.equal(api.getObject('pods', NS, 'redis-1')!.metadata.labels!['redis-role'], undefined);
  const rv = api.getObject('pods', NS, 'redis-2')!.metadata.resourceVersion!;
  const ok = await kubectl('label', 'pod', 'redis-2', 'x=1', `--resource-version=${rv}`);
  assert.equal(ok.exitCode, 0, ok.stderr);
  const stale = await kubectl('label', 'pod', 'redis-2', 'x=2', '--overwrite', `--resource-version=${rv}`);
  assert.notEqual(stale.exitCode, 0);
  assert.match(stale.stderr, /the object has been modified/);
  assert.equal(api.getObject('pods', NS, 'redis-2')!.metadata.labels!.x, '1');
});

test("kubectl describe pod shows the launcher's Events (they name the pod's uid)", { skip }, async () => {
  process.env.KUBECONFIG = env.KUBECONFIG;
  await emitEvent(connectKube(NS), { name: 'redis-0' }, 'Normal', 'StartingAsMaster', 'decided: master (a test)');
  const r = await kubectl('describe', 'pod', 'redis-0');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /Normal\s+StartingAsMaster\s+.*redis-ha-launcher\s+decided: master \(a test\)/);
  const ev = api.listObjects('events', NS).find((e) => e.reason === 'StartingAsMaster');
  assert.equal(ev?.involvedObject.uid, api.getObject('pods', NS, 'redis-0')?.metadata.uid);
});

test(
  'kubectl get pods prints the server-side Table: READY, STATUS, RESTARTS, AGE; -o wide adds IP and NODE',
  { skip },
  async () => {
    const plain = await kubectl('get', 'pods', '-l', 'app=redis');
    assert.equal(plain.exitCode, 0, plain.stderr);
    assert.match(plain.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    assert.match(plain.stdout, /^redis-0\s+1\/1\s+Running\s+0\s+\d+s$/m);
    const wide = await kubectl('get', 'pods', '-l', 'app=redis', '-o', 'wide');
    assert.match(wide.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
    assert.match(wide.stdout, /^redis-1\s+\S+\s+Running\s+0\s+\d+s\s+10\.0\.0\.2\s+node-1\s/m);
    const events = await kubectl('get', 'events');
    assert.equal(events.exitCode, 0, events.stderr);
    assert.match(events.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    assert.match(events.stdout, /Normal\s+StartingAsMaster\s+pod\/redis-0\s+decided: master \(a test\)/);
    const json = await kubectl('get', 'pod', 'redis-0', '-o', 'json');
    assert.equal(JSON.parse(json.stdout).kind, 'Pod', 'asking for JSON still gets the object');
  },
);
