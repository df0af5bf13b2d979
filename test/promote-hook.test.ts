// launcher-promote as Sentinel runs it inside a Sentinel container: it hands its arguments to the warm Sentinel
// supervisor over the local socket (no Kubernetes client of its own) and passes on the exit code and one line.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { REPO, testCluster } from './support/cluster.ts';
import { waitFor } from './support/wait.ts';

test('launcher-promote is answered by the Sentinel supervisor over its socket, with promote exit codes', async (t) => {
  const b = await execa(process.execPath, [join(REPO, 'image/build.ts')], { reject: false });
  assert.equal(b.exitCode, 0, String(b.stderr));
  const { c } = await testCluster(t, 'hook', { launcher: join(REPO, 'image/dist/launcher.mjs') });
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const m = c.pod(Number(master.split('-').pop()));
  const p = c.pod(0);
  await waitFor('the hook socket is up', () => p.sentinel?.tail.some((l) => /launcher-promote is answered/.test(l)));
  const hook = (args: string[]) =>
    execa(join(REPO, 'image/dist/launcher-promote'), args, {
      reject: false,
      env: { PATH: `${join(process.execPath, '..')}:${process.env.PATH}`, REDIS_CONF_DIR: join(p.dir, 'sentinel') },
    });
  const t0 = Date.now();
  const ok = await hook(['mymaster', 'observer', 'start', '10.9.9.9', '6379', m.ip, '6379']);
  const ms = Date.now() - t0;
  assert.equal(ok.exitCode, 0, String(ok.stderr));
  assert.ok(
    p.sentinel?.tail.some((l) => new RegExp(`promote \\(observer, start\\): 10\\.9\\.9\\.9:6379 -> ${m.ip}`).test(l)),
    'the Sentinel supervisor did the work',
  );
  const bad = await hook(['mymaster', 'observer']);
  assert.equal(bad.exitCode, 2);
  assert.match(String(bad.stderr).trim(), /^launcher: expected 7 arguments .*; see 'launcher promote --help'$/);
  const cold = await execa(process.execPath, ['-e', '0']);
  t.diagnostic(`launcher-promote through the socket: ${ms} ms (node -e 0 here: ${cold.durationMs.toFixed(0)} ms)`);
});
