// End-to-end failure scenarios on one simulated StatefulSet, with two clients writing throughout: a plain client
// that always writes to the pod labelled redis-role=master (a Service on that label) and a Sentinel-aware ioredis
// client. Across all scenarios: never two pods labelled master (checked at every API write), exactly one at every
// 50 ms sample while converged, labels equal real roles within the stated bound, and no WAIT-acknowledged write lost.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from './support/cluster.ts';
import { KubeStandin } from './support/kube/server.ts';
import { stopAll } from './support/processes.ts';
import { LabelWriter, SentinelWriter } from './support/writer.ts';
import { waitFor } from './support/wait.ts';

const CONVERGE_MS = 30_000; // the stated bound: labels, ROLE and every Sentinel agree within this after a disruption
let api: KubeStandin;
let c: LocalCluster;
let root: string;
let labelWriter: LabelWriter;
let sentinelWriter: SentinelWriter;
const doubles: string[][] = [];
const gaps: string[] = [];
let offDoubles = () => {};

before(async () => {
  api = await new KubeStandin().start();
  root = await mkdtemp(join(tmpdir(), 'rhl-e2e-'));
  c = await new LocalCluster({
    api,
    root,
    log: process.env.TEST_VERBOSE ? (p, l) => process.stderr.write(`[${p}] ${l}\n`) : undefined,
  }).init();
  offDoubles = api.store.subscribe((ch) => {
    if (ch.bucket === 'pods') {
      const m = c.labelledMasters();
      if (m.length > 1) doubles.push(m);
    }
  });
});
after(async () => {
  offDoubles();
  await labelWriter?.stop();
  await sentinelWriter?.stop();
  await stopAll();
  await api.close();
  await rm(root, { recursive: true, force: true });
});

/** While converged and undisturbed, exactly one pod is labelled master at every 50 ms sample. */
async function steady(t: TestContext, ms = 1000) {
  let samples = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    assert.equal(c.labelledMasters().length, 1, `sample ${samples}: ${c.labelledMasters()}`);
    samples++;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.diagnostic(`steady: ${samples} samples with exactly one master label`);
}

async function scenario(t: TestContext, what: string, disrupt: () => Promise<unknown>) {
  const t0 = Date.now();
  await disrupt();
  const master = await c.converged(what, CONVERGE_MS);
  t.diagnostic(`${what}: converged in ${Date.now() - t0} ms, master ${master}`);
  await steady(t);
  assert.deepEqual(doubles, [], 'never two pods labelled master');
  return master;
}

const ord = (name: string) => Number(name.split('-').pop());

describe('end-to-end scenarios', () => {
  test('first boot', async (t) => {
    const m = await scenario(t, 'first boot', () => c.startAll());
    assert.equal(m, 'redis-0');
    labelWriter = new LabelWriter(c);
    sentinelWriter = new SentinelWriter(c);
    labelWriter.start();
    sentinelWriter.start();
    await waitFor(
      'both clients writing',
      () => labelWriter.acked.length > 10 && sentinelWriter.acked.length > 10,
      20_000,
    );
  });

  test('replica kill (container restart, same IP): rejoins, master unchanged', async (t) => {
    const before = c.labelledMasters()[0];
    const replica = c.ordinals.find((i) => c.pod(i).name !== before)!;
    const m = await scenario(t, 'replica kill', async () => {
      await c.killPod(replica);
      await c.startPod(replica);
    });
    assert.equal(m, before);
  });

  test('master kill: failover, relabel; the old master returns with a new IP as a replica', async (t) => {
    const old = c.labelledMasters()[0];
    const m = await scenario(t, 'master kill', async () => {
      await c.killPod(ord(old));
      await waitFor(
        'failover relabel',
        () => {
          const ms = c.labelledMasters();
          return ms.length === 1 && ms[0] !== old;
        },
        CONVERGE_MS,
        20,
      );
      await c.recreatePod(ord(old), 'kill');
      await c.waitReady(ord(old));
    });
    assert.notEqual(m, old);
  });

  test('a replica pod deleted and recreated with a new IP', async (t) => {
    const master = c.labelledMasters()[0];
    const replica = c.ordinals.find((i) => c.pod(i).name !== master)!;
    const m = await scenario(t, 'replica recreated', async () => {
      await c.recreatePod(replica, 'term');
      await c.waitReady(replica);
    });
    assert.equal(m, master);
  });

  test('Sentinel amnesia: every Sentinel restarts empty and monitors the same master; no failover', async (t) => {
    const master = c.labelledMasters()[0];
    const mi = ord(master);
    let flips = 0;
    const watch = setInterval(() => {
      void c.role(mi).then((r) => {
        if (r && r !== 'master') flips++;
      });
    }, 100);
    try {
      const m = await scenario(t, 'sentinel amnesia', () => c.restartSentinels(true));
      assert.equal(m, master);
    } finally {
      clearInterval(watch);
    }
    assert.equal(flips, 0, 'the master never stopped being master');
  });

  test('scale 3 -> 5: the new pods join as replicas', async (t) => {
    const master = c.labelledMasters()[0];
    const m = await scenario(t, 'scale to 5', async () => {
      await c.scaleTo(5);
      await c.waitReady(3);
      await c.waitReady(4);
    });
    assert.equal(m, master);
    assert.deepEqual(Object.values(c.labels()).sort(), ['master', 'slave', 'slave', 'slave', 'slave']);
  });

  test('rolling restart of all pods with continuous writes', async (t) => {
    await scenario(t, 'rolling restart', () => c.rollingRestart());
  });

  test('full restart: data intact, previous master kept', async (t) => {
    const master = c.labelledMasters()[0];
    const m = await scenario(t, 'full restart', async () => {
      await c.stopAll();
      for (const i of c.ordinals) api.deleteObject('pods', c.ns, c.pod(i).name);
      await Promise.all([...c.ordinals].reverse().map((i) => c.startPod(i, { newIp: true })));
    });
    assert.equal(m, master);
  });

  test('no WAIT-acknowledged write was lost by either client', async (t) => {
    await waitFor(
      'clients writing again',
      async () => {
        const [a, b] = [labelWriter.acked.length, sentinelWriter.acked.length];
        await new Promise((r) => setTimeout(r, 500));
        return labelWriter.acked.length > a && sentinelWriter.acked.length > b;
      },
      60_000,
      0,
    );
    await labelWriter.stop();
    await sentinelWriter.stop();
    for (const w of [labelWriter, sentinelWriter]) {
      gaps.push(
        `${w.constructor.name}: ${w.acked.length} acknowledged, ${w.failures} failed attempts, longest gap ` +
          `${w.maxGapMs()} ms`,
      );
    }
    t.diagnostic(gaps.join('; '));
    await labelWriter.assertAllPresent();
    await sentinelWriter.assertAllPresent();
  });
});
