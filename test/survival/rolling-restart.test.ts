// A rolling restart as the StatefulSet controller runs it (highest ordinal first; each pod stopped, recreated with
// a new IP, and Ready before the next), with a client writing through the master label all along: every
// acknowledged write is kept, also every write a client that keeps its connection to the master and never uses WAIT
// was told OK; the master's SIGTERM handover finds a replica the Sentinels may promote (a replica is Ready only once
// they list it as a candidate), and the Sentinels forget every address no pod has any more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';
import { LabelWriter, missingKeys, PinnedWriter } from '../support/writer.ts';

test('rolling restart of 3 pods under writes: every acknowledged write kept, stale addresses dropped', async (t) => {
  const { api, c } = await testCluster(t, 'rolling-restart');
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const writer = new LabelWriter(c);
  writer.start();
  t.after(() => writer.stop());
  const pinned = new PinnedWriter(api.getObject('pods', c.ns, master)!.status.podIP as string, 6379, { wait: false });
  pinned.start();
  t.after(() => pinned.stop());
  await waitFor('writes flowing', () => writer.acked.length >= 20, 10_000);
  const oldIps = c.ordinals.map((i) => c.pod(i).ip);
  await c.rollingRestart();
  const last = await c.converged('after the rolling restart', 40_000);
  await writer.stop();
  await pinned.stop();
  t.diagnostic(
    `rolling restart: ${writer.acked.length} acknowledged writes, ${writer.failures} failed attempts, longest gap ` +
      `${writer.maxGapMs()} ms`,
  );
  await writer.assertAllPresent();
  assert.ok(pinned.ok.length > 0, 'the pinned client wrote');
  const lastIp = api.getObject('pods', c.ns, last)!.status.podIP as string;
  assert.deepEqual(
    await missingKeys(
      lastIp,
      pinned.ok.map((w) => w.key),
    ),
    [],
    'every write told OK kept',
  );
  const current = new Set(c.ordinals.map((i) => c.pod(i).ip));
  await waitFor(
    'no Sentinel remembers an address no pod has',
    async () => {
      for (const i of c.ordinals) {
        for (const cmd of ['REPLICAS', 'SENTINELS']) {
          const rows = (await ask(c.pod(i).ip, 26379, 'SENTINEL', cmd, 'mymaster')) as string[][] | undefined;
          if (!rows) return false;
          for (const r of rows) if (!current.has(r[r.indexOf('ip') + 1])) return false;
        }
      }
      return true;
    },
    60_000,
    500,
  );
  assert.ok(oldIps.every((ip) => !current.has(ip)));
});
