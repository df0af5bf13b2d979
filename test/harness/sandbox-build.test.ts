// The sandbox refuses to start, in one line, when any file it runs is missing from the build (it checked only the
// entry once, and a build without the bundle the entry imports ended in a stack trace).
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILT, missingBuild } from '../sandbox/built.ts';

test('every file the sandbox runs is checked, not only the entry; the hook must be executable', async (t) => {
  const dist = await mkdtemp(join(tmpdir(), 'rhl-dist-'));
  t.after(() => rm(dist, { recursive: true, force: true }));
  await writeFile(join(dist, 'launcher.mjs'), '');
  assert.deepEqual(
    missingBuild(dist),
    ['launcher-bundle.mjs', 'launcher-promote.mjs', 'launcher-promote'].map((f) => join(dist, f)),
  );
  for (const f of BUILT) await writeFile(join(dist, f), '');
  await chmod(join(dist, 'launcher-promote'), 0o644);
  // Root may execute a file only when some execute bit is set, as everyone else.
  assert.deepEqual(missingBuild(dist), [join(dist, 'launcher-promote')], 'a hook Sentinel cannot execute');
  await chmod(join(dist, 'launcher-promote'), 0o755);
  assert.deepEqual(missingBuild(dist), []);
});
