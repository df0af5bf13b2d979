// A master that restarts before the Sentinels notice, with a large dataset: instead of answering LOADING (which
// Sentinel counts as alive) for the whole load while writes stop, it has Sentinel fail over to its in-sync replica
// and rejoins as that replica's replica. The 200 MB before/after figures are in `npm run bench`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { fill } from '../support/fill.ts';
import { ask, connect } from '../support/redis.ts';
import { SentinelWriter } from '../support/writer.ts';

test('a master restarting with data files over LOADING_HANDOVER_BYTES hands over to its replica first', async (t) => {
  const writers: SentinelWriter[] = [];
  t.after(async () => {
    for (const w of writers) await w.stop();
  });
  const { c } = await testCluster(t, 'loading', {
    // Sentinel does not notice a quick restart (down-after 10 s); 20 MB of data is over the 5 MB threshold.
    env: { SENTINEL_DOWN_AFTER_MS: '10000', SENTINEL_FAILOVER_TIMEOUT_MS: '10000', LOADING_HANDOVER_BYTES: '5000000' },
  });
  await c.startAll();
  const master = await c.converged('first boot', 40_000);
  const mi = Number(master.split('-').pop());
  const keys = await fill(c.pod(mi).ip, 6379, 20);
  const m = connect(c.pod(mi).ip, 6379, { commandTimeout: 30_000 });
  assert.equal(Number(await m.call('WAIT', '2', '20000')), 2, 'both replicas have the data');
  m.disconnect();
  const writer = new SentinelWriter(c);
  writers.push(writer);
  writer.start();

  await c.killPod(mi); // container restart: same pod, same IP, its data dir kept
  await c.startPod(mi);
  const now = await c.converged('the replica took over', 40_000);
  assert.notEqual(now, master, 'the restarted master did not come back as master to load');
  assert.ok(
    c.pod(mi).redis?.tail.some((l) => /asks Sentinel to fail over to one of them instead of loading/.test(l)),
    'its launcher said why',
  );
  assert.equal((await c.roles())[master], 'slave', 'it rejoined as a replica');
  const ni = Number(now.split('-').pop());
  assert.ok(Number(await ask(c.pod(ni).ip, 6379, 'DBSIZE')) >= keys, 'the new master has every key');
  await writer.stop();
  t.diagnostic(`writes: ${writer.acked.length} acknowledged, longest gap ${writer.maxGapMs()} ms`);
  await writer.assertAllPresent();
});
