// launcher-promote as Sentinel runs it inside a Sentinel container: it hands its arguments to the warm Sentinel
// supervisor over the local socket (no Kubernetes client of its own) and passes on the exit code and one line.
// The image's hook does it with redis-cli (no Node process at all); the Node hook (bin/, and the image's fallback)
// the same way.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { REPO, testCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';

test('launcher-promote is answered by the Sentinel supervisor over its socket, with promote exit codes', async (t) => {
  const dist = await mkdtemp(join(tmpdir(), 'rhl-hook-dist-'));
  t.after(() => rm(dist, { recursive: true, force: true }));
  const b = await execa(process.execPath, [join(REPO, 'image/build.ts'), dist], { reject: false });
  assert.equal(b.exitCode, 0, String(b.stderr));
  const { c } = await testCluster(t, 'hook', { launcher: join(dist, 'launcher.mjs') });
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const m = c.pod(Number(master.split('-').pop()));
  const p = c.pod(0);
  await waitFor('the hook socket is up', () => p.sentinel?.tail.some((l) => /launcher-promote is answered/.test(l)));
  const sentinelDir = join(p.dir, 'sentinel');
  // The image's hook, with a PATH that has no Node 24: an answer through redis-cli needs none (the fallback would
  // fail here).
  const imageHook = (args: string[]) =>
    execa(join(dist, 'launcher-promote'), args, {
      reject: false,
      env: { PATH: '/usr/bin:/bin', REDIS_CONF_DIR: sentinelDir },
    });
  const nodeHook = (args: string[]) =>
    execa(process.execPath, [join(dist, 'launcher-promote.mjs'), ...args], {
      reject: false,
      env: { REDIS_CONF_DIR: sentinelDir },
    });
  const times: string[] = [];
  for (const [name, hook] of [
    ['image hook (sh + redis-cli)', imageHook],
    ['Node hook', nodeHook],
  ] as const) {
    const before = p.sentinel?.tail.length ?? 0;
    const from = name === 'Node hook' ? '10.9.9.8' : '10.9.9.9';
    const t0 = Date.now();
    const ok = await hook(['mymaster', 'observer', 'start', from, '6379', m.ip, '6379']);
    times.push(`${name} ${Date.now() - t0} ms`);
    assert.equal(ok.exitCode, 0, `${name}: ${String(ok.stderr)}`);
    assert.equal(String(ok.stderr), '');
    await waitFor(`${name}: the Sentinel supervisor did the work`, () =>
      p.sentinel?.tail
        .slice(before)
        .some((l) =>
          new RegExp(`promote \\(observer, start\\): ${from.replace(/\./g, '\\.')}:6379 -> ${m.ip}`).test(l),
        ),
    );
    const bad = await hook(['mymaster', 'observer']);
    assert.equal(bad.exitCode, 2, name);
    assert.match(String(bad.stderr).trim(), /^launcher: expected 7 arguments .*; see 'launcher promote --help'$/);
  }
  const cold = await execa(process.execPath, ['-e', '0']);
  t.diagnostic(
    `launcher-promote through the socket: ${times.join(', ')} (node -e 0 here: ${cold.durationMs.toFixed(0)} ms)`,
  );
});
