// The all-in-one image, built from image/Dockerfile as written and run as real containers (podman + runc): what
// the host-process tests only imitate. Each pod's `redis` and `sentinel` containers run as the manifests run them
// (test/support/podman-entry.sh): UID 10001, read-only root, no capabilities, volumes for data and config.
// `npm run test:containers`; a machine that cannot run containers says so in one line and skips (CI fails instead:
// .ci/run sets RHL_REQUIRE_CONTAINERS).
import assert from 'node:assert/strict';
import { before, test, type TestContext } from 'node:test';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO, testCluster } from '../support/cluster.ts';
import {
  buildLauncherImage,
  buildLauncherOnlyImage,
  containerEnv,
  containersUnavailable,
  imageSizeMB,
  injectLauncher,
  LAUNCHER_IMAGE,
  RUN_LABEL,
  stockEngineImage,
} from '../support/containers.ts';
import { tempDir } from '../support/tmp.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';
import { LabelWriter, missingKeys, PinnedWriter } from '../support/writer.ts';

const unavailable = await containersUnavailable();
if (unavailable && process.env.RHL_REQUIRE_CONTAINERS) throw new Error(unavailable);
if (unavailable) process.stderr.write(`${unavailable}: the container tests are skipped\n`);
const skip = unavailable ?? false;
const ord = (name: string) => Number(name.split('-').pop());
const podman = (args: string[]) => execa('podman', args, { env: containerEnv(), reject: false, stdin: 'ignore' });
/** `podman run` as the manifests run the container: read-only root, no capabilities, no privilege escalation. */
const locked = [
  ...['--rm', '--read-only', '--read-only-tmpfs=false', '--cap-drop=all'],
  ...['--security-opt', 'no-new-privileges', '--network', 'none'],
];
/** The IDs of this run's containers, or of one pod's. */
const containers = async (pod?: string) => {
  const filters = ['--filter', `label=${RUN_LABEL}`, ...(pod ? ['--filter', `label=rhl-pod=${pod}`] : [])];
  return String((await podman(['ps', '-aq', ...filters])).stdout)
    .trim()
    .split('\n')
    .filter(Boolean);
};

before(async () => {
  if (unavailable) return;
  const t0 = performance.now();
  await buildLauncherImage();
  const s = Math.round((performance.now() - t0) / 1000);
  process.stderr.write(
    `built ${LAUNCHER_IMAGE} from image/Dockerfile in ${s} s: ${await imageSizeMB(LAUNCHER_IMAGE)} MB\n`,
  );
});

test(
  "the image runs as its own user on a read-only root, tini first, the bundle's code from the cache",
  { skip },
  async () => {
    const inspect = await podman([
      'image',
      'inspect',
      '--format',
      '{{.Config.User}} {{json .Config.Entrypoint}}',
      LAUNCHER_IMAGE,
    ]);
    const [user, entrypoint] = String(inspect.stdout).trim().split(' ');
    assert.equal(user, '10001:10001');
    assert.equal(JSON.parse(entrypoint)[0], '/usr/bin/tini');
    const v = await podman(['run', ...locked, '-e', 'NODE_DEBUG_NATIVE=COMPILE_CACHE', LAUNCHER_IMAGE, '--version']);
    assert.equal(v.exitCode, 0, String(v.stderr));
    assert.equal(String(v.stdout).trim(), '0.1.0');
    assert.match(String(v.stderr), /compile-cache\/v[^/]+-10001\/.*\n.*was accepted/, String(v.stderr));
    const shell = (script: string) => podman(['run', ...locked, '--entrypoint', 'sh', LAUNCHER_IMAGE, '-c', script]);
    assert.equal(String((await shell('id -u')).stdout).trim(), '10001');
    const programs = 'sh tini node redis-server redis-sentinel redis-cli redis-check-aof';
    const tools = await shell(`for c in ${programs}; do command -v $c || echo "no $c"; done`);
    assert.doesNotMatch(String(tools.stdout), /^no /m, `every program the launcher runs is there: ${tools.stdout}`);
  },
);

test('bad input in the container: one line naming the problem, exit 2', { skip }, async () => {
  const r = await podman(['run', ...locked, LAUNCHER_IMAGE, 'run', '--redis-port', 'x']);
  assert.equal(r.exitCode, 2, String(r.stderr));
  assert.equal(String(r.stderr).trim().split('\n').length, 1, String(r.stderr));
  assert.match(String(r.stderr), /^launcher: /);
});

/**
 * The tour, each pod's containers run from `image` by test/support/podman-entry.sh (`env` reaches the wrapper):
 * boot, the master's node killed, the master deleted gracefully, a full restart with new IPs; no key lost.
 */
async function tour(t: TestContext, name: string, image: string, env: Record<string, string> = {}): Promise<void> {
  // Registered first, so it runs first (node:test runs after-hooks in order): no container outlives the test,
  // and none still writes into the directories the harness removes next.
  t.after(async () => {
    const left = await containers();
    if (left.length) await podman(['rm', '-f', '-t', '0', ...left]);
  });
  const { api, c } = await testCluster(t, name, {
    entrypoint: [join(REPO, 'test/support/podman-entry.sh'), image],
    env: { ...containerEnv(), ...env },
  });
  /** The pod's containers gone, as after a node's death or the runtime's stop; then the Pod object deleted. */
  const gone = async (i: number) => {
    await waitFor(`${c.pod(i).name}'s containers removed`, async () => (await containers(c.pod(i).name)).length === 0);
    api.deleteObject('pods', c.ns, c.pod(i).name);
  };
  const t0 = performance.now();
  await c.startAll();
  let master = await c.settled('boot', 90_000);
  t.diagnostic(`boot: ${master} master after ${Math.round(performance.now() - t0)} ms`);
  for (const id of await containers(master)) {
    const pid1 = await podman(['exec', id, 'cat', '/proc/1/cmdline']);
    assert.match(String(pid1.stdout).split('\0')[0], /\/tini$/, `PID 1 of ${master}'s containers is tini`);
  }
  const keys: string[] = [];
  const confirmed = async (round: string) => {
    const ip = c.pod(ord(master)).ip;
    for (let k = 0; k < 20; k++) {
      assert.equal(await ask(ip, 6379, 'SET', `${round}:${k}`, String(k)), 'OK');
      keys.push(`${round}:${k}`);
    }
    assert.ok(Number(await ask(ip, 6379, 'WAIT', '1', '5000')) >= 1, 'the keys reached a replica');
  };

  // The master's node dies: SIGKILL to both of its containers.
  await confirmed('before-kill');
  const killed = ord(master);
  const t1 = performance.now();
  await c.killPod(killed);
  await gone(killed);
  await c.startPod(killed, { newIp: true, ready: false });
  master = await c.settled('after the kill', 90_000);
  assert.notEqual(ord(master), killed, 'another pod is master');
  t.diagnostic(`kill: ${master} master after ${Math.round(performance.now() - t1)} ms`);
  assert.deepEqual(await missingKeys(c.pod(ord(master)).ip, keys), [], 'every confirmed key kept after the kill');

  // The master pod deleted gracefully: the runtime's SIGTERM, the handover first. A client that keeps its
  // connection and never uses WAIT: every write it was told OK is kept.
  await confirmed('before-delete');
  const pinned = new PinnedWriter(c.pod(ord(master)).ip, 6379, { wait: false });
  pinned.start();
  t.after(() => pinned.stop());
  const writer = new LabelWriter(c); // follows the master label, as a Service does
  writer.start();
  t.after(() => writer.stop());
  await waitFor('writes', () => pinned.ok.length >= 20 && writer.acked.length >= 20, 10_000);
  const deleted = ord(master);
  const t2 = performance.now();
  const stopped = await c.stopPod(deleted);
  assert.deepEqual(stopped, { redis: 0, sentinel: 0 }, "both containers ended on the runtime's SIGTERM, exit 0");
  await gone(deleted);
  await c.startPod(deleted, { newIp: true, ready: false });
  await pinned.stop();
  master = await c.settled('after the graceful delete', 90_000);
  await writer.stop();
  t.diagnostic(
    `graceful delete: ${master} master, ${Math.round(performance.now() - t2)} ms to the pod back; longest ` +
      `write gap through the label ${writer.maxGapMs()} ms`,
  );
  await writer.assertAllPresent();
  assert.notEqual(ord(master), deleted, 'the deleted master handed over');
  const told = pinned.ok.map((w) => w.key);
  assert.deepEqual(await missingKeys(c.pod(ord(master)).ip, [...keys, ...told]), [], 'every write told OK kept');
  keys.push(...told);

  // Full restart: every pod stopped by the runtime and deleted, back with new IPs.
  await confirmed('before-restart');
  await c.stopAll();
  for (const i of c.ordinals) await gone(i);
  for (const i of c.ordinals) await c.startPod(i, { newIp: true });
  const after = await c.settled('after the full restart', 120_000);
  assert.equal(after, master, 'the previous master is kept');
  assert.deepEqual(await missingKeys(c.pod(ord(after)).ip, keys), [], 'every key kept through the full restart');
}

const TOUR = 'boot, master killed, master deleted gracefully, full restart; no key lost';
test(`a set of 3 pods as containers of the image: ${TOUR}`, { skip, timeout: 600_000 }, (t) =>
  tour(t, 'containers', LAUNCHER_IMAGE),
);

for (const engine of ['redis', 'valkey'] as const) {
  test(
    `the launcher injected onto a stock ${engine} image (no Node, no tini): ${TOUR}`,
    { skip, timeout: 900_000 },
    async (t) => {
      const stock = await stockEngineImage(engine);
      const none = await podman(['run', ...locked, '--entrypoint', 'sh', stock, '-c', 'command -v node tini; true']);
      assert.equal(String(none.stdout).trim(), '', `the stock image has no node and no tini: ${none.stdout}`);
      const t0 = performance.now();
      const only = await buildLauncherOnlyImage();
      t.diagnostic(`launcher-only image: ${await imageSizeMB(only)} MB (${Math.round(performance.now() - t0)} ms)`);
      const dir = await tempDir(t, 'rhl-inject-');
      await injectLauncher(dir, only);
      await injectLauncher(dir, only); // again, as when the pod starts anew with its emptyDir kept
      const copy = ['-v', `${dir}:/launcher:ro`, '--user', '10001:10001', '--entrypoint', '/launcher/node'];
      const v = await podman([
        'run',
        ...locked,
        ...copy,
        '-e',
        'NODE_DEBUG_NATIVE=COMPILE_CACHE',
        stock,
        ...['/launcher/launcher.mjs', '--version'],
      ]);
      assert.equal(String(v.stdout).trim(), '0.1.0', String(v.stderr));
      assert.match(String(v.stderr), /was accepted/, `the copy starts from the cache filled in the image: ${v.stderr}`);
      await tour(t, `inject-${engine}`, stock, { RHL_INJECT_DIR: dir });
    },
  );
}
