// End-to-end failure scenarios on one simulated StatefulSet, with two clients writing throughout: a plain client
// that writes only to the pod labelled redis-role=master AND Ready (a Service on that label) and a Sentinel-aware
// ioredis client. Across all scenarios: never two pods labelled master (checked at every API write), exactly one at
// every 50 ms sample while converged, labels equal real roles within the stated bound, and no WAIT-acknowledged
// write lost. The cluster is untidy on purpose: the kubelet runs the manifests' own probes (readiness comes only
// from them, a failing liveness kills), pods sit Pending before they run, a data annotation arrives late, and pods
// are stopped as a container runtime does (SIGTERM to PID 1, SIGKILL after the grace period).
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster, watchMasterLabels } from '../support/cluster.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { SentinelWriter, ServiceWriter } from '../support/writer.ts';
import { waitFor } from '../support/wait.ts';

const CONVERGE_MS = 30_000; // the stated bound: labels, ROLE and every Sentinel agree within this after a disruption
let api: KubeStandin;
let c: LocalCluster;
let root: string;
let labelWriter: ServiceWriter;
let sentinelWriter: SentinelWriter;
const gaps: string[] = [];
let labels: ReturnType<typeof watchMasterLabels> | undefined;

before(async () => {
  api = await new KubeStandin().start();
  root = await mkdtemp(join(tmpdir(), 'rhl-e2e-'));
  c = await new LocalCluster({
    api,
    root,
    // The manifests' probes at half their periods; the grace period (45 s) scales too, so the handover and the
    // stop timeout are set to fit in it as they do in the manifests.
    probes: { timeScale: 0.5 },
    rbacFromManifests: true,
    env: { HANDOVER_TIMEOUT_MS: '8000', REDIS_STOP_TIMEOUT_MS: '8000' },
    log: process.env.TEST_VERBOSE ? (p, l) => process.stderr.write(`[${p}] ${l}\n`) : undefined,
  }).init();
  labels = watchMasterLabels(c);
});
after(async () => {
  labels?.stop();
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
  await Promise.all(c.ordinals.map((i) => c.waitReady(i, CONVERGE_MS)));
  const kills = c.kubelet.kills.map((k) => `${k.pod}/${k.container} by ${k.reason}`);
  assert.deepEqual(kills, [], 'no container was killed by a probe');
  await steady(t);
  assert.deepEqual(labels?.doubles, [], 'never two pods labelled master');
  return master;
}

const ord = (name: string) => Number(name.split('-').pop());

describe('end-to-end scenarios', () => {
  test('first boot', async (t) => {
    const m = await scenario(t, 'first boot', async () => {
      // redis-1 and redis-2 exist but sit Pending (no IP); redis-2's data annotation will arrive late. Empty
      // redis-0 must wait for them, not elect itself over peers it cannot see.
      await c.startAll([0, 1, 2], { pending: [1, 2] });
      await waitFor(
        'redis-0 waits for its Pending peers',
        () => c.pod(0).redis?.tail.some((l) => /redis-1, redis-2 have not been seen/.test(l)),
        20_000,
      );
      assert.deepEqual(c.labelledMasters(), [], 'no master while the peers are Pending');
      assert.equal(api.getObject('leases', c.ns, 'mymaster-master'), undefined, 'no master of record yet');
      c.delayDataAnnotation(2, 2000, 1);
      await Promise.all([c.startPod(1), c.startPod(2)]);
    });
    assert.equal(m, 'redis-0');
    labelWriter = new ServiceWriter(c);
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
    // Every sample must find it answering as master: not answering counts too (a failover may be hiding there).
    const seen: string[] = [];
    const watch = setInterval(() => {
      void c.role(mi).then((r) => {
        if (r !== 'master') seen.push(r ?? 'no answer');
      });
    }, 100);
    try {
      const m = await scenario(t, 'sentinel amnesia', () => c.restartSentinels(true));
      assert.equal(m, master);
    } finally {
      clearInterval(watch);
    }
    assert.deepEqual(seen, [], 'the master never stopped being master, nor answering');
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
    const mi = ord(master);
    const m = await scenario(t, 'full restart', async () => {
      await c.stopAll();
      for (const i of c.ordinals) api.deleteObject('pods', c.ns, c.pod(i).name);
      // The others come back first; the previous master's pod sits Pending: they must wait for it.
      await c.createPendingPod(mi, { newIp: true });
      await Promise.all([...c.ordinals].filter((i) => i !== mi).map((i) => c.startPod(i, { newIp: true })));
      const other = c.ordinals.find((i) => i !== mi) ?? 0;
      await waitFor(
        'the others wait for the master of record',
        () => c.pod(other).redis?.tail.some((l) => new RegExp(`master of record, ${master}, is not running`).test(l)),
        20_000,
      );
      assert.deepEqual(c.labelledMasters(), [], 'nobody took over while the master of record was Pending');
      await c.startPod(mi);
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
