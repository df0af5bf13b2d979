// Relabel at event time: the Sentinel supervisor, subscribed to its Sentinel's +switch-master, relabels from its
// warm process. Here the client-reconfig-script does nothing and the Redis supervisors' reconcile is slowed to a
// minute, so only the event path can move the label; the latency from the Sentinels' majority switch to the API
// write is reported (the bench compares it with the scripts').
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { keptLog, testCluster, watchMasterLabels } from '../support/cluster.ts';
import { telling } from '../support/story.ts';
import { waitFor } from '../support/wait.ts';

test('the Sentinel supervisor relabels at +switch-master, without the client-reconfig-script', async (t) => {
  const subs: Redis[] = [];
  t.after(() => subs.forEach((s) => s.disconnect()));
  const kept = keptLog();
  const { api, c } = await testCluster(t, 'events', async (root) => {
    const noop = join(root, 'noop-promote');
    await writeFile(noop, '#!/bin/sh\nexit 0\n');
    await chmod(noop, 0o755);
    return { env: { LAUNCHER_PROMOTE_SCRIPT: noop, LAUNCHER_RECONCILE_MS: '60000' }, log: kept.log };
  });
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const mi = Number(master.split('-').pop());
  // When a majority of the Sentinels gives out the new master (what promote's rule waits for), polled every 5 ms.
  const oldIp = c.pod(mi).ip;
  for (const i of c.ordinals.filter((x) => x !== mi)) {
    // Reconnecting, and failing fast while disconnected: one dropped connection must not hide the switch.
    const s = new Redis({ host: c.pod(i).ip, port: 26379, enableOfflineQueue: false, lazyConnect: true });
    s.on('error', () => {});
    await s.connect();
    subs.push(s);
  }
  let majorityAt = 0;
  const poll = setInterval(() => {
    void Promise.all(subs.map((s) => s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster').catch(() => null))).then(
      (answers) => {
        const moved = answers.filter((a) => Array.isArray(a) && a[0] !== oldIp).length;
        if (!majorityAt && moved >= 2) majorityAt = Date.now();
      },
    );
  }, 5);
  t.after(() => clearInterval(poll));
  const labels = watchMasterLabels(c);
  let flippedAt = 0;
  const off = api.store.subscribe((ch) => {
    if (!flippedAt && ch.bucket === 'pods') {
      const m = c.labelledMasters();
      if (m.length === 1 && m[0] !== master) flippedAt = Date.now();
    }
  });
  t.after(() => {
    off();
    labels.stop();
  });
  await c.killPod(mi);
  const lines = kept.lines;
  await telling(
    c,
    lines,
    waitFor('a majority of the Sentinels switched', () => majorityAt > 0, 30_000, 5),
  );
  await telling(
    c,
    lines,
    waitFor('the label moved to the new master', () => flippedAt > 0, 15_000, 5),
  );
  clearInterval(poll);
  t.diagnostic(`labels flipped ${flippedAt - majorityAt} ms after the Sentinels' majority switched (API write)`);
  assert.deepEqual(labels.doubles, [], 'never two pods labelled master');
  const now = c.labelledMasters()[0];
  assert.equal((await c.roles())[now], 'master', 'the label is on the pod that answers ROLE master');
  assert.ok(
    [...c.pods.values()].some((p) => p.sentinel?.tail.some((l) => /\+switch-master .* relabelling/.test(l))),
    'a Sentinel supervisor relabelled at the event',
  );
});
