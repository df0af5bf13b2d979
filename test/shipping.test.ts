// What ships: the esbuild bundle runs on its own (the manifests are checked in manifests.test.ts).
import assert from 'node:assert/strict';
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
