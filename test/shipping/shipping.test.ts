// What ships: the esbuild bundle runs on its own (the manifests are checked in manifests.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';
import { REPO } from '../support/cluster.ts';

test('the bundle builds and runs: --version, and launcher-promote maps bad arguments to exit 2', async (t) => {
  const dist = await mkdtemp(join(tmpdir(), 'rhl-dist-'));
  t.after(() => rm(dist, { recursive: true, force: true }));
  const b = await execa(process.execPath, [join(REPO, 'image/build.ts'), dist], { reject: false });
  assert.equal(b.exitCode, 0, String(b.stderr));
  const v = await execa(process.execPath, [join(dist, 'launcher.mjs'), '--version'], { reject: false });
  assert.equal(String(v.stdout).trim(), '0.1.0');
  const p = await execa(join(dist, 'launcher-promote'), ['only-one'], {
    reject: false,
    env: { PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
  });
  assert.equal(p.exitCode, 2);
  assert.match(String(p.stderr), /expected 7 arguments/);
});

test('the bundle starts from a compile cache, filled as the image fills it, read-only at run time', async (t) => {
  // Node keeps one cache per user. The image fills it as its own user when it is built (image/Dockerfile); at run
  // time the root is read-only. Another user (a platform that picks the UID) finds no cache and starts anyway.
  const dist = await mkdtemp(join(tmpdir(), 'rhl-dist-'));
  t.after(() => rm(dist, { recursive: true, force: true }));
  await chmod(dist, 0o755);
  const b = await execa(process.execPath, [join(REPO, 'image/build.ts'), dist], { reject: false });
  assert.equal(b.exitCode, 0, String(b.stderr));
  const root = process.getuid?.() === 0;
  const as = (uid: number) => (root ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'] : []);
  const launcher = [process.execPath, '--max-semi-space-size=1', join(dist, 'launcher.mjs'), '--version'];
  const run = async (uid: number, debug = false) => {
    const [file, ...args] = [...as(uid), ...launcher];
    const env = { PATH: process.env.PATH ?? '', ...(debug ? { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } : {}) };
    const r = await execa(file, args, { reject: false, env, extendEnv: false });
    assert.equal(String(r.stdout).trim(), '0.1.0', String(r.stderr));
    return String(r.stderr);
  };
  const cache = join(dist, 'compile-cache');
  if (root) {
    await execa('chown', ['-R', '65534', cache]);
    await run(65534); // the image's RUN, as its USER
  }
  await execa('chmod', ['-R', 'a-w', cache]);
  const debug = await run(65534, true);
  assert.match(debug, /V8 code cache for ESM \S+ was accepted/, `the bundle's code comes from the cache: ${debug}`);
  assert.doesNotMatch(debug, /was rejected/, debug);
  assert.equal(await run(65534), '', 'nothing on stderr without the debug switch');
  if (root) {
    assert.equal(await run(65533), '', 'another user: no cache, no complaint');
  }
});

test('the CLI loads per command only what it needs: --version, --help and bad input load no client', async () => {
  // Every module the CLI resolves, recorded by a resolve hook, from source (the bundle keeps the same imports lazy).
  const script = [
    "import { registerHooks } from 'node:module';",
    'const seen = [];',
    'registerHooks({ resolve: (s, c, next) => (seen.push(s), next(s, c)) });',
    `const { main } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'src/cli.ts')).href)});`,
    'const quiet = { out: () => {}, err: () => {} };',
    "for (const a of [['--version'], ['role', '--help'], ['run', '--redis-port', 'x']]) await main(a, quiet);",
    'const before = seen.length;',
    "await main(['role'], quiet);",
    'console.log(JSON.stringify({ cheap: seen.slice(0, before), role: seen.slice(before) }));',
  ].join('\n');
  const r = await execa(process.execPath, ['--input-type=module', '-e', script], {
    env: { POD_NAME: 'redis-0', POD_IP: '127.0.0.1', POD_NAMESPACE: 'redis', REDIS_POD_SELECTOR: 'app=redis' },
    reject: false,
  });
  const { cheap, role } = JSON.parse(String(r.stdout).trim().split('\n').pop() ?? '{}') as Record<string, string[]>;
  const heavy = (xs: string[]) => xs.filter((x) => /@kubernetes\/client-node|ioredis|prom-client|execa/.test(x));
  assert.deepEqual(heavy(cheap), [], 'nothing heavy for --version, --help or bad input');
  assert.ok(heavy(role).includes('@kubernetes/client-node'), `role loads the Kubernetes client: ${role.join(' ')}`);
});

test('bin/ runs the built bundle while it is fresh, the sources when a source is newer or when asked', async (t) => {
  const { entry } = (await import(pathToFileURL(join(REPO, 'bin/entry.mjs')).href)) as {
    entry: (bundle: string, source: string, root?: string) => string;
  };
  const root = await mkdtemp(join(tmpdir(), 'rhl-entry-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'src/commands'), { recursive: true });
  await mkdir(join(root, 'image/dist'), { recursive: true });
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  for (const [f, s] of [
    ['package.json', 1],
    ['src/main.ts', 2],
    ['src/commands/role.ts', 3],
    ['image/dist/launcher.mjs', 4],
  ] as const) {
    await writeFile(join(root, f), '');
    await utimes(join(root, f), at(s), at(s));
  }
  const bundle = pathToFileURL(join(root, 'image/dist/launcher.mjs')).href;
  const source = pathToFileURL(join(root, 'src/main.ts')).href;
  assert.equal(entry('launcher.mjs', 'main.ts', root), bundle, 'built after every source: the bundle');
  await utimes(join(root, 'src/commands/role.ts'), at(5), at(5));
  assert.equal(entry('launcher.mjs', 'main.ts', root), source, 'a source edited since the build: the sources');
  await utimes(join(root, 'image/dist/launcher.mjs'), at(6), at(6));
  assert.equal(entry('launcher.mjs', 'main.ts', root), bundle);
  process.env.LAUNCHER_FROM_SOURCE = '1';
  t.after(() => delete process.env.LAUNCHER_FROM_SOURCE);
  assert.equal(entry('launcher.mjs', 'main.ts', root), source, 'LAUNCHER_FROM_SOURCE=1');
  assert.equal(entry('missing.mjs', 'main.ts', root), source, 'no bundle: the sources');
});

test('the image: numeric non-root user as in the manifests, no process-group signals, a lean context', async () => {
  const dockerfile = readFileSync(join(REPO, 'image/Dockerfile'), 'utf8');
  const final = dockerfile.split(/^FROM /m).pop() ?? '';
  assert.match(final, /^USER 10001:10001$/m, 'a fixed numeric UID:GID (the manifests run as 10001)');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(final)?.[1] ?? '[]') as string[];
  assert.equal(entrypoint[0], '/usr/bin/tini');
  assert.ok(!entrypoint.includes('-g'), 'tini must not signal the whole group (Redis would stop before handover)');
  const installed = /apt-get install[^&]*/.exec(final)?.[0].split(/\s+/) ?? [];
  for (const pkg of ['redis-server', 'redis-sentinel', 'redis-tools', 'tini']) {
    assert.ok(installed.includes(pkg), `${pkg} is installed (redis-tools: the image's hook runs redis-cli)`);
  }
  assert.match(
    dockerfile,
    /^FROM --platform=\$BUILDPLATFORM \$\{NODE_IMAGE\} AS build$/m,
    'platform-independent build',
  );
  assert.match(dockerfile, /^ARG NODE_IMAGE=/m, 'the base image is a build argument (pin it by digest)');
  assert.doesNotMatch(final, /npm (ci|install)/, 'no dependencies installed in the final stage');
  const asUser = final.split(/^USER 10001:10001$/m)[1] ?? '';
  assert.match(
    asUser,
    /^RUN node \/opt\/redis-ha-launcher\/launcher\.mjs --version/m,
    'the compile cache, as the user',
  );
  const ignore = readFileSync(join(REPO, 'image/Dockerfile.dockerignore'), 'utf8').split('\n');
  assert.equal(
    ignore.find((l) => l && !l.startsWith('#')),
    '**',
    'everything is left out of the context first',
  );
  assert.ok(!ignore.some((l) => /^!.*node_modules/.test(l)), 'node_modules (with the 126 MB node binary) stays out');
});
