// The supervisor with real processes: labels kept true, split brain healed, mastership handed over on SIGTERM,
// readiness gated on sync and on the Sentinels seeing a candidate, metrics, Events, Sentinel hygiene (rolling
// restarts: test/survival/rolling-restart.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { LocalCluster, REPO, watchMasterLabels } from '../support/cluster.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { alertNames, inputSeries, testRules } from '../support/promtool.ts';
import { ask, connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';
import { LabelWriter } from '../support/writer.ts';

let api: KubeStandin;
let c: LocalCluster;
let root: string;
const NS = 'redis';

before(async () => {
  api = await new KubeStandin().start();
  root = await mkdtemp(join(tmpdir(), 'rhl-supervisor-'));
  c = await new LocalCluster({
    api,
    root,
    log: process.env.TEST_VERBOSE ? (p, l) => process.stderr.write(`[${p}] ${l}\n`) : undefined,
  }).init();
  await c.startAll();
  await converged();
});
after(async () => {
  await stopAll();
  await api.close();
  await rm(root, { recursive: true, force: true });
});

const ordinalOf = (name: string) => Number(name.split('-').pop());

const converged = (ms = 40_000) => c.converged('cluster converged', ms);

const http = async (i: number, path: string) => {
  const port = 8080;
  try {
    const r = await fetch(`http://${c.pod(i).ip}:${port}${path}`, { signal: AbortSignal.timeout(3000) });
    return { status: r.status, text: await r.text() };
  } catch (e) {
    return { status: 0, text: String(e) };
  }
};

const METRIC = '[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})?';
/** One line of the Prometheus text format: a HELP/TYPE comment, or a sample with a number, NaN or ±Inf. */
const PROMETHEUS_LINE = new RegExp(
  `^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*|${METRIC} -?[0-9.e+-]+|${METRIC} (NaN|[+-]Inf))$`,
);

const DATA = 'redis-ha-launcher/data';

describe('supervisor', () => {
  test('a lost promote (labels wrong on purpose) is corrected within the reconcile interval, one master', async (t) => {
    const master = c.labelledMasters()[0];
    const replica = Object.keys(c.labels()).find((n) => n !== master)!;
    const rec = watchMasterLabels(c);
    const relabel = (name: string, role: string) => {
      const pod = api.getObject('pods', NS, name)!;
      api.put('pods', {
        ...pod,
        metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, 'redis-role': role } },
      });
    };
    relabel(master, 'slave');
    relabel(replica, 'master');
    const t0 = Date.now();
    await waitFor(
      'labels corrected',
      () => c.labels()[master] === 'master' && c.labels()[replica] === 'slave',
      10_000,
      20,
    );
    t.diagnostic(`reconciler latency (wrong labels to corrected): ${Date.now() - t0} ms (LAUNCHER_RECONCILE_MS=1000)`);
    rec.stop();
    assert.deepEqual(rec.doubles, [], 'no write left two pods labelled master');
    await waitFor(
      'LabelCorrected event',
      () =>
        api.listObjects('events', NS).some((e) => e.reason === 'LabelCorrected' && e.involvedObject.name === master),
      5000,
    );
  });

  test('a stale second master is healed into a replica of the real one; the real master keeps its data', async (t) => {
    const master = ordinalOf(c.labelledMasters()[0]);
    const stale = [0, 1, 2].find((i) => i !== master)!;
    const m = connect(c.pod(master).ip, 6379);
    await m.set('real', 'kept');
    await m.call('WAIT', '2', '5000');
    const s = connect(c.pod(stale).ip, 6379);
    await s.call('REPLICAOF', 'NO', 'ONE');
    await s.set('divergent', 'x');
    // A client that stays connected to the stale master (as one behind the master Service would): it must be
    // dropped by the heal so that it reconnects through the label to the real master, instead of getting READONLY.
    let dropped = false;
    s.once('close', () => (dropped = true));
    const t0 = Date.now();
    await waitFor('stale master healed', async () => (await c.role(stale)) === 'slave', 15_000, 50);
    const healMs = Date.now() - t0;
    t.diagnostic(`split brain heal: ${healMs} ms`);
    // Sentinel converts a replica that claims master only after 4 publish periods (8 s): this was the launcher.
    assert.ok(healMs < 6000, `healed after ${healMs} ms: too slow to be the launcher's doing`);
    await waitFor('the stale master dropped its clients', () => dropped, 3000, 20);
    assert.ok(Date.now() - t0 < 8000, 'clients were dropped before Sentinel could have converted it');
    await waitFor(
      'Warning event',
      () =>
        api
          .listObjects('events', NS)
          .some(
            (e) =>
              e.reason === 'SplitBrainHealed' && e.type === 'Warning' && e.involvedObject.name === c.pod(stale).name,
          ),
      5000,
    );
    assert.equal(await m.get('real'), 'kept');
    assert.equal(await m.get('divergent'), null);
    m.disconnect();
    assert.equal(c.labelledMasters()[0], c.pod(master).name);
    // the healed pod resyncs from the real master (full sync after Redis' diskless delay): its divergent write goes
    await waitFor(
      'healed replica discards its divergent write and has the real data',
      async () =>
        (await ask(c.pod(stale).ip, 6379, 'GET', 'divergent')) === null &&
        (await ask(c.pod(stale).ip, 6379, 'GET', 'real')) === 'kept',
      20_000,
      100,
    );
  });

  test('/healthz, /readyz and /metrics answer; metrics parse and carry the role; Events tell the story', async () => {
    const master = ordinalOf(c.labelledMasters()[0]);
    const replica = [0, 1, 2].find((i) => i !== master)!;
    assert.equal((await http(master, '/healthz')).status, 200);
    await waitFor('master ready', async () => (await http(master, '/readyz')).status === 200, 10_000);
    await waitFor('replica ready', async () => (await http(replica, '/readyz')).status === 200, 10_000);
    const metrics = (await http(master, '/metrics')).text;
    for (const line of metrics.split('\n').filter(Boolean)) {
      assert.match(line, PROMETHEUS_LINE, line);
    }
    assert.match(metrics, /^redis_ha_role\{role="master"\} 1$/m);
    assert.match((await http(replica, '/metrics')).text, /^redis_ha_role\{role="slave"\} 1$/m);
    assert.match(metrics, /^redis_ha_last_decision_duration_seconds /m);
    assert.match(metrics, /^redis_ha_ready 1$/m, 'the ready gauge follows /readyz');
    // Every pod booted empty and synced: the data annotation follows the data dir, not the state at start.
    await waitFor(
      'every pod reports data present',
      () => [0, 1, 2].every((i) => api.getObject('pods', NS, `redis-${i}`)?.metadata.annotations?.[DATA] === 'present'),
      15_000,
    );
    // What the alerts of the monitoring component read (a supervisor restarted by an earlier test sets them at its
    // first cycles).
    const gauges = async (i: number, want: string[]) =>
      waitFor(`pod ${i}: ${want.join(', ')}`, async () => {
        const text = (await http(i, '/metrics')).text;
        return want.every((g) => new RegExp(`^${g}$`, 'm').test(text)) ? true : undefined;
      });
    await gauges(master, ['redis_ha_label_matches_role 1', 'redis_ha_labelled_master 1', 'redis_ha_master_link_up 1']);
    await gauges(replica, ['redis_ha_labelled_master 0', 'redis_ha_master_link_up 1', 'redis_ha_paused 0']);
    assert.equal((await fetch(`http://${c.pod(master).ip}:8081/readyz`)).status, 200);
    const sentinelMetrics = await fetch(`http://${c.pod(master).ip}:8081/metrics`).then((r) => r.text());
    assert.match(sentinelMetrics, /^redis_ha_role\{role="sentinel"\} 1$/m);
    assert.match(sentinelMetrics, /^redis_ha_sentinel_quorum_ok 1$/m, 'set by the readiness check');
    // the same checks as exec probes
    const probe = (i: number, ...args: string[]) =>
      execa(process.execPath, [join(REPO, 'bin/launcher'), 'probe', ...args], {
        env: { ...c.env(c.pod(i)), REDIS_CONF_DIR: join(c.pod(i).dir, 'conf') },
        reject: false,
        timeout: 20_000,
      });
    const pr = await probe(replica, 'readiness');
    assert.equal(pr.exitCode, 0, String(pr.stdout) + String(pr.stderr));
    assert.match(String(pr.stdout), /^readiness: ok: replica, link up, synced$/m);
    assert.equal((await probe(master, 'liveness')).exitCode, 0);
    assert.match(
      String((await probe(master, 'readiness', '--sentinel')).stdout),
      /^readiness: ok: OK \d usable Sentinels/m,
    );
    const bad = await probe(master, 'startup');
    assert.equal(bad.exitCode, 2);
    const reasons = new Set(api.listObjects('events', NS).map((e) => e.reason));
    for (const r of ['StartingAsMaster', 'StartingAsReplica']) assert.ok(reasons.has(r), `event ${r}`);
  });

  test('alert rules stay silent on the real metrics of a healthy set (promtool, 90 min of that scrape)', async () => {
    await converged();
    const endpoints = [0, 1, 2].flatMap((i) => [
      { i, container: 'redis', port: 8080 },
      { i, container: 'sentinel', port: 8081 },
    ]);
    const url = (e: (typeof endpoints)[number], path: string) => `http://${c.pod(e.i).ip}:${e.port}${path}`;
    // Readiness is computed when the kubelet asks; here nobody else asks.
    for (const e of endpoints) {
      await waitFor(`${e.container} of pod ${e.i} ready`, async () => (await fetch(url(e, '/readyz'))).ok, 15_000);
    }
    // Settled: every replica's first sync is over and its supervisor has seen it.
    const scrapes = await waitFor(
      'every Redis container reports its link up',
      async () => {
        const all = await Promise.all(
          endpoints.map(async (e) => ({
            text: await fetch(url(e, '/metrics')).then((r) => r.text()),
            target: { namespace: NS, pod: `redis-${e.i}`, container: e.container },
          })),
        );
        const redis = all.filter((s) => s.target.container === 'redis');
        return redis.every((s) => /^redis_ha_master_link_up 1$/m.test(s.text)) ? all : undefined;
      },
      20_000,
    );
    const cases = (await alertNames()).map((alertname) => ({ eval_time: '90m', alertname, exp_alerts: [] }));
    const r = await testRules([{ input_series: inputSeries([{ at: 0, scrapes }], 90), alert_rule_test: cases }]);
    assert.ok(r.ok, r.output);
  });

  test(
    'SIGTERM to the master hands over before it stops; writes through the label resume; no acknowledged write ' +
      'lost',
    async (t) => {
      const writer = new LabelWriter(c);
      writer.start();
      t.after(() => writer.stop());
      await waitFor('writes flowing', () => writer.acked.length >= 20, 10_000);
      const old = ordinalOf(c.labelledMasters()[0]);
      const oldIp = c.pod(old).ip;
      // A slow API: reads of the stopping pod are answered 1.5 s late. The HandedOver Event (which reads the pod's
      // uid first) must still be sent before the launcher exits.
      const slowRead = api.faults.add({
        method: 'GET',
        path: c.podPath(old),
        match: (r) => r.query.get('watch') !== 'true',
        delayMs: 1500,
      });
      t.after(() => slowRead.remove());
      const t0 = Date.now();
      const stopping = c.pod(old).redis!.stop(30_000);
      const sentinelStop = c.pod(old).sentinel!.stop(30_000);
      const newMaster = await waitFor(
        'another master named by the sentinels',
        async () => {
          const views = await c.sentinelViews();
          return views.find((v) => v && !v.startsWith(`${oldIp}:`));
        },
        20_000,
        20,
      );
      const handoverMs = Date.now() - t0;
      const exited = await stopping;
      await sentinelStop;
      t.diagnostic(
        `SIGTERM to new master named by Sentinel: ${handoverMs} ms; old launcher exit code ${exited.exitCode}`,
      );
      assert.equal(exited.exitCode, 0, 'Redis stopped cleanly and the launcher passed its exit code on');
      slowRead.remove();
      assert.ok(
        api
          .listObjects('events', NS)
          .some((e) => e.reason === 'HandedOver' && e.involvedObject.name === c.pod(old).name),
      );
      await waitFor(
        'label moved',
        () => {
          const m = c.labelledMasters();
          return m.length === 1 && m[0] !== c.pod(old).name;
        },
        10_000,
      );
      const resumeFrom = writer.acked.length;
      await waitFor('writes resume through the label', () => writer.acked.length >= resumeFrom + 20, 15_000);
      t.diagnostic(
        `longest gap between acknowledged writes through the label: ${writer.maxGapMs()} ms; new master ${newMaster}`,
      );
      await c.startPod(old, { newIp: true });
      await converged();
      await writer.stop();
      await writer.assertAllPresent();
    },
  );

  test('a reset lock left by a Sentinel pod that is gone does not hold the hygiene up for its duration', async () => {
    // As when a pod is killed in the middle of its reset and recreated under its name: the Lease still names it
    // (with the uid of the pod that was), renewed just now, for 60 s.
    const master = ordinalOf(c.labelledMasters()[0]);
    api.put('leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'mymaster-master-sentinel-reset', namespace: NS },
      spec: {
        holderIdentity: `${c.pod(master).name}_0d1c2b3a-uid-of-the-pod-before`,
        leaseDurationSeconds: 60,
        renewTime: new Date().toISOString(),
      },
    });
    const replica = [0, 1, 2].find((i) => i !== master)!;
    const old = c.pod(replica).ip;
    await c.recreatePod(replica, 'kill');
    await c.waitReady(replica, 30_000);
    // Well within the Lease's 60 s: that pod is gone, so no Sentinel can be resetting under it.
    await waitFor(
      `no Sentinel remembers ${old}`,
      async () => {
        for (const i of c.ordinals) {
          const rows = (await ask(c.pod(i).ip, 26379, 'SENTINEL', 'REPLICAS', 'mymaster')) as string[][] | undefined;
          if (!rows || rows.some((r) => r[r.indexOf('ip') + 1] === old)) return false;
        }
        return true;
      },
      30_000,
      500,
    );
  });

  test("/readyz: not ready during a replica's initial sync, nor until most Sentinels may promote it", async (t) => {
    const master = ordinalOf(c.labelledMasters()[0]);
    const m = connect(c.pod(master).ip, 6379);
    const value = 'x'.repeat(1000);
    for (let b = 0; b < 50; b++) {
      const p = m.pipeline();
      for (let k = 0; k < 2000; k++) p.set(`bulk:${b}:${k}`, value);
      await p.exec();
    }
    m.disconnect();
    const replica = [0, 1, 2].find((i) => i !== master)!;
    await c.killPod(replica);
    await rm(join(c.pod(replica).dir, 'data'), { recursive: true, force: true });
    api.deleteObject('pods', NS, c.pod(replica).name);
    await c.startPod(replica, { newIp: true });
    const seen: string[] = [];
    await waitFor(
      'replica ready after its sync',
      async () => {
        const r = await http(replica, '/readyz');
        if (r.status) seen.push(`${r.status} ${r.text.trim()}`);
        return r.status === 200;
      },
      60_000,
      100,
    );
    // Ready means a planned handover could promote it now: a majority of the Sentinels (Sentinel reads a replica's
    // INFO, its replica-priority with it, only every 10 s) list it with a priority above 0. Else the master's next
    // SIGTERM (a rolling update goes on as soon as this pod is Ready) would find no candidate.
    const priorities = await Promise.all(
      c.ordinals.map(async (i) => {
        const rows = (await ask(c.pod(i).ip, 26379, 'SENTINEL', 'REPLICAS', 'mymaster')) as string[][] | undefined;
        const row = rows?.find((r) => r[r.indexOf('ip') + 1] === c.pod(replica).ip);
        return row ? Number(row[row.indexOf('slave-priority') + 1]) : undefined;
      }),
    );
    t.diagnostic(`replica-priority each Sentinel lists for it when it turned Ready: ${priorities.join(', ')}`);
    assert.ok(priorities.filter((p) => p !== undefined && p > 0).length >= 2, `${priorities}`);
    t.diagnostic(`readiness during sync: ${[...new Set(seen.map((s) => s.replace(/\d+ ms/, '')))].join(' | ')}`);
    assert.ok(
      seen.some((s) => s.startsWith('503') && /link|sync|loading/.test(s)),
      `never saw not-ready during sync: ${seen.slice(0, 5)}`,
    );
    assert.equal(await ask(c.pod(replica).ip, 6379, 'DBSIZE'), await ask(c.pod(master).ip, 6379, 'DBSIZE'));
  });
});
