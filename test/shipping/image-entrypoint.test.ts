// The image's entrypoint exactly as image/Dockerfile writes it (ENTRYPOINT + CMD + ENV of the final stage, run with
// the files the image has: tini from the machine, node, the bundle), stopped as the kubelet stops a container:
// SIGTERM to its PID 1 only. The master must hand over before redis-server receives any signal, no
// WAIT-acknowledged write may be lost, and the whole stop must fit in terminationGracePeriodSeconds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { finalStage, imageEntrypoint } from '../support/image.ts';
import { render } from '../support/manifests.ts';
import { SentinelWriter } from '../support/writer.ts';
import { waitFor } from '../support/wait.ts';

const tini = spawnSync('sh', ['-c', 'command -v tini'], { encoding: 'utf8' }).stdout.trim();

test(
  'SIGTERM to the image entrypoint (PID 1): handover first, then Redis stops; nothing lost',
  {
    skip: !tini && !process.env.CI && 'tini is not installed (.ci/run installs it)',
  },
  async (t) => {
    assert.ok(tini, 'tini is installed');
    const image = finalStage();
    assert.deepEqual(image.cmd, ['run']);
    const dist = await mkdtemp(join(tmpdir(), 'rhl-image-dist-'));
    t.after(() => rm(dist, { recursive: true, force: true }));
    const { entrypoint, here } = await imageEntrypoint(dist);
    const sts = (await render()).find((d) => d.kind === 'StatefulSet');
    const graceMs = sts?.spec.template.spec.terminationGracePeriodSeconds * 1000;

    const writers: SentinelWriter[] = [];
    t.after(async () => {
      for (const w of writers) await w.stop();
    });
    const { c } = await testCluster(t, 'entrypoint', {
      entrypoint,
      env: { LAUNCHER_PROMOTE_SCRIPT: here(image.env.LAUNCHER_PROMOTE_SCRIPT ?? '') },
    });
    await c.startAll();
    const master = await c.converged('boot through the image entrypoint', 40_000);
    const mi = Number(master.split('-').pop());
    await Promise.all(c.ordinals.map((i) => c.waitReady(i)));
    const writer = new SentinelWriter(c);
    writers.push(writer);
    writer.start();
    await waitFor('writes acknowledged', () => writer.acked.length > 50, 20_000);
    // Sentinel learns of replicas from the master's INFO (every 10 s until the launcher sets 1 s), and refuses a
    // failover (NOGOODSLAVE) until it knows one whose link is up: every Sentinel must know one before the handover
    // can be asked for.
    await waitFor(
      'every Sentinel knows a replica whose link is up',
      async () => {
        for (const i of c.ordinals) {
          const reps = (await ask(c.pod(i).ip, 26379, 'SENTINEL', 'REPLICAS', 'mymaster')) as string[][] | undefined;
          const ok = reps?.some(
            (r) => r[r.indexOf('master-link-status') + 1] === 'ok' && r[r.indexOf('flags') + 1] === 'slave',
          );
          if (!ok) return undefined;
        }
        return true;
      },
      30_000,
      200,
    );

    const p = c.pod(mi);
    const t0 = Date.now();
    p.redis?.signalLeader('SIGTERM'); // the kubelet signals the container's PID 1 (tini) only
    const exit = await Promise.race([p.redis?.leaderExited, new Promise<null>((r) => setTimeout(r, graceMs, null))]);
    const stopMs = Date.now() - t0;
    assert.ok(exit, `the container did not stop within terminationGracePeriodSeconds (${graceMs} ms)`);
    assert.equal(exit.exitCode, 0, p.redis?.tail.join('\n'));
    t.diagnostic(`SIGTERM to PID 1 -> container exited: ${stopMs} ms (grace ${graceMs} ms)`);
    const lines = p.redis?.tail ?? [];
    const handedOver = lines.findIndex((l) => /handover: the sentinels now name .* stopping Redis/.test(l));
    const redisSignalled = lines.findIndex((l) => /Received SIGTERM/.test(l));
    assert.ok(handedOver >= 0, `the master handed over:\n${lines.join('\n')}`);
    assert.ok(redisSignalled > handedOver, `redis-server got SIGTERM only after the handover:\n${lines.join('\n')}`);
    const now = await c.converged('the new master serves', 30_000).catch(() => '');
    assert.notEqual(now, master);
    await writer.stop();
    t.diagnostic(`writes: ${writer.acked.length} acknowledged, longest gap ${writer.maxGapMs()} ms`);
    await writer.assertAllPresent();
  },
);
