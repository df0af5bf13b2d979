// One dedicated Sentinel StatefulSet (3 pods, `launcher run --sentinel` with SENTINEL_WATCH_SELECTOR) watching
// several Redis StatefulSets, each its own master set: real redis-server and redis-sentinel processes, the
// stand-in API. Each set fails over on its own with its own labels and Lease, and the other set's labels never
// move; a set added at run time is monitored without restarting the Sentinels, and a removed one is forgotten
// once its pods are gone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptLog, watchMasterLabels, type LocalCluster } from '../support/cluster.ts';
import { testSentinelGroup } from '../support/sentinel-group.ts';
import { askWith } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const ord = (name: string) => Number(name.split('-').pop());

/** The master sets a Sentinel monitors (SENTINEL MASTERS). */
async function monitoredBy(ip: string): Promise<string[]> {
  const r = (await askWith({}, ip, 26379, 'SENTINEL', 'MASTERS')) as string[][] | undefined;
  return (r ?? []).map((flat) => flat[flat.indexOf('name') + 1]).sort();
}

/** Every pod-label write of `other` during `during()`: there must be none (no cross-talk). */
async function untouched(other: LocalCluster, during: () => Promise<void>): Promise<string[]> {
  const before = JSON.stringify(other.labels());
  const moved: string[] = [];
  const off = other.api.store.subscribe((ch) => {
    if (ch.bucket !== 'pods') return;
    const now = JSON.stringify(other.labels());
    if (now !== before) moved.push(now);
  });
  try {
    await during();
  } finally {
    off();
  }
  return moved;
}

/** Kills the set's master; waits for another pod to be labelled master and recorded; brings the pod back. */
async function failOver(set: LocalCluster): Promise<{ old: string; next: string; ms: number }> {
  const old = set.labelledMasters()[0];
  const t0 = Date.now();
  await set.killPod(ord(old));
  const next = await set.relabelledFrom(old, 30_000, `${set.sts}: another pod labelled master`);
  const ms = Date.now() - t0;
  await waitFor(
    `${set.sts}: its Lease names ${next}`,
    () => set.api.getObject('leases', set.ns, `${set.sts}-master`)?.spec?.holderIdentity === next,
    10_000,
  );
  await set.startPod(ord(old));
  assert.equal(await set.converged(`${set.sts}: healed`, 60_000), next);
  return { old, next, ms };
}

test(
  'two sets on one dedicated Sentinel group fail over on their own; a third is added at run time and forgotten ' +
    'once removed',
  async (t) => {
    const kept = keptLog();
    const g = await testSentinelGroup(t, 'sentinel-group', { log: kept.log });
    const [a, b] = await Promise.all([g.addSet('redis-a'), g.addSet('redis-b')]);
    // Everything starts at once, as after `kubectl apply` of the overlay: Sentinels, both sets.
    await Promise.all([g.sentinels.startAll(), a.startAll(), b.startAll()]);
    await Promise.all([a.settled('redis-a boot', 60_000), b.settled('redis-b boot', 60_000)]);
    for (const i of g.sentinels.ordinals) {
      assert.deepEqual(await monitoredBy(g.sentinels.pod(i).ip), ['redis-a', 'redis-b'], `sentinel-${i} monitors both`);
    }
    const doubles = [watchMasterLabels(a), watchMasterLabels(b)];
    t.after(() => doubles.forEach((d) => d.stop()));

    // Each set's master killed in turn: that set fails over, the other's labels do not move.
    for (const [set, other] of [
      [a, b],
      [b, a],
    ] as const) {
      let f: Awaited<ReturnType<typeof failOver>> | undefined;
      const moved = await untouched(other, async () => {
        f = await failOver(set);
      });
      assert.deepEqual(moved, [], `${other.sts}'s labels did not move while ${set.sts} failed over`);
      t.diagnostic(`${set.sts}: ${f?.old} -> ${f?.next}, labelled after ${f?.ms} ms`);
    }
    assert.deepEqual(
      doubles.flatMap((d) => d.doubles),
      [],
      'never two pods of one set labelled master',
    );

    // A third set, created while everything runs, with a bad annotation: left out, with one line saying why.
    const sentinelPids = g.sentinels.ordinals.map((i) => g.sentinels.pod(i).sentinel?.pid);
    const c = await g.addSet('redis-c', { annotations: { 'redis-ha-launcher/quorum': 'two' } });
    await c.startAll();
    const master = await waitFor('redis-c decided its master', () => c.labelledMasters()[0], 30_000);
    await waitFor(
      'every Sentinel said why redis-c is not monitored',
      () =>
        g.sentinels.ordinals.every((i) =>
          kept.lines.some(
            (l) =>
              l.startsWith(`[sentinel-${i}/sentinel]`) &&
              l.includes('StatefulSet redis-c: redis-ha-launcher/quorum="two" is invalid'),
          ),
        ),
      15_000,
    );
    // As if one Sentinel's MONITOR had gone through and its SET had not (a timeout): the add must still finish.
    await askWith({}, g.sentinels.pod(0).ip, 26379, 'SENTINEL', 'MONITOR', 'redis-c', c.pod(ord(master)).ip, 6379, 2);
    // The annotation fixed (and a timing of its own): monitored without restarting the Sentinels.
    const t0 = Date.now();
    const sts = g.api.getObject('statefulsets', c.ns, 'redis-c')!;
    const annotations = { 'redis-ha-launcher/quorum': '2', 'redis-ha-launcher/down-after-ms': '1500' };
    g.api.put('statefulsets', { ...sts, metadata: { ...sts.metadata, annotations } });
    await c.converged('redis-c monitored by every Sentinel', 30_000);
    const addedMs = Date.now() - t0;
    // Every Sentinel, also the one whose MONITOR went through by hand (converged counts it already), applies
    // redis-c's own timing.
    await waitFor(
      "every Sentinel has redis-c's own timing (1500 ms)",
      async () => {
        for (const i of g.sentinels.ordinals) {
          const m = (await askWith({}, g.sentinels.pod(i).ip, 26379, 'SENTINEL', 'MASTER', 'redis-c')) as string[];
          if (m?.[m.indexOf('down-after-milliseconds') + 1] !== '1500') return false;
        }
        return true;
      },
      10_000,
      200,
    );
    t.diagnostic(`redis-c: annotation fixed to monitored by all 3 Sentinels in ${addedMs} ms`);
    assert.ok(addedMs <= 20_000, `a set added at run time is monitored within 20 s (took ${addedMs} ms)`);
    assert.deepEqual(
      g.sentinels.ordinals.map((i) => g.sentinels.pod(i).sentinel?.pid),
      sentinelPids,
      'no Sentinel was restarted',
    );
    const role = await g.sentinels.launcherRole(0, false, { SENTINEL: 'true' });
    assert.equal(role.exitCode, 0, role.stderr);
    for (const s of ['redis-a', 'redis-b', 'redis-c']) {
      assert.match(role.stdout, new RegExp(`^set ${s} \\(StatefulSet ${s}, pods app=${s}, `, 'm'));
    }
    assert.match(role.stdout, /^ {2}now: this Sentinel monitors it at /m);

    // Removed: its StatefulSet deleted first (kept while its pods exist), then its pods.
    c.api.deleteObject('statefulsets', c.ns, 'redis-c');
    await waitFor(
      'every Sentinel noticed that redis-c has no StatefulSet',
      () =>
        g.sentinels.ordinals.every((i) =>
          kept.lines.some(
            (l) => l.startsWith(`[sentinel-${i}/sentinel]`) && l.includes('set redis-c has no StatefulSet any more'),
          ),
        ),
      15_000,
    );
    for (const i of g.sentinels.ordinals) {
      assert.ok((await monitoredBy(g.sentinels.pod(i).ip)).includes('redis-c'), 'kept while its pods exist');
    }
    for (const i of c.ordinals) {
      await c.stopPod(i);
      c.api.deleteObject('pods', c.ns, c.pod(i).name);
    }
    const t1 = Date.now();
    await waitFor(
      'every Sentinel forgot redis-c',
      async () => {
        const lists = await Promise.all(g.sentinels.ordinals.map((i) => monitoredBy(g.sentinels.pod(i).ip)));
        return lists.every((l) => l.join() === 'redis-a,redis-b');
      },
      15_000,
      200,
    );
    t.diagnostic(`redis-c: forgotten by every Sentinel ${Date.now() - t1} ms after its last pod was gone`);
    assert.equal(await a.converged('redis-a untouched'), a.labelledMasters()[0]);
    assert.equal(await b.converged('redis-b untouched'), b.labelledMasters()[0]);
  },
);
