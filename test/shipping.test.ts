// What ships: the esbuild bundle runs on its own (the manifests are checked in manifests.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { REPO } from './support/cluster.ts';

test('the bundle builds and runs: --version, and launcher-promote maps bad arguments to exit 2', async () => {
  const b = await execa(process.execPath, [join(REPO, 'image/build.ts')], { reject: false });
  assert.equal(b.exitCode, 0, String(b.stderr));
  const v = await execa(process.execPath, [join(REPO, 'image/dist/launcher.mjs'), '--version'], { reject: false });
  assert.equal(String(v.stdout).trim(), '0.1.0');
  const p = await execa(join(REPO, 'image/dist/launcher-promote'), ['only-one'], {
    reject: false,
    env: { PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
  });
  assert.equal(p.exitCode, 2);
  assert.match(String(p.stderr), /expected 7 arguments/);
});

test('the image: numeric non-root user as in the manifests, no process-group signals, a lean context', async () => {
  const dockerfile = readFileSync(join(REPO, 'image/Dockerfile'), 'utf8');
  const final = dockerfile.split(/^FROM /m).pop() ?? '';
  assert.match(final, /^USER 10001:10001$/m, 'a fixed numeric UID:GID (the manifests run as 10001)');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(final)?.[1] ?? '[]') as string[];
  assert.equal(entrypoint[0], '/usr/bin/tini');
  assert.ok(!entrypoint.includes('-g'), 'tini must not signal the whole group (Redis would stop before handover)');
  assert.match(
    dockerfile,
    /^FROM --platform=\$BUILDPLATFORM \$\{NODE_IMAGE\} AS build$/m,
    'platform-independent build',
  );
  assert.match(dockerfile, /^ARG NODE_IMAGE=/m, 'the base image is a build argument (pin it by digest)');
  assert.doesNotMatch(final, /npm (ci|install)/, 'no dependencies installed in the final stage');
  const ignore = readFileSync(join(REPO, 'image/Dockerfile.dockerignore'), 'utf8').split('\n');
  assert.equal(
    ignore.find((l) => l && !l.startsWith('#')),
    '**',
    'everything is left out of the context first',
  );
  assert.ok(!ignore.some((l) => /^!.*node_modules/.test(l)), 'node_modules (with the 126 MB node binary) stays out');
});
