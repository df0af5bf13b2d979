// A replica left following an address that is no master (a Sentinel that did not know it when it failed over never
// reconfigures it: found by the bench, where writes needing a replica's acknowledgement then stalled for seconds).
// Its supervisor points it at the master a majority of the Sentinels names, once that one answers ROLE master.
// Sentinel's own +fix-slave-config waits failover-timeout, set to 60 s here, so only the launcher can do it in time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { ask, connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

test('a replica following an address that is no master is pointed at the Sentinels master', async (t) => {
  const { c } = await testCluster(t, 'stranded', { env: { SENTINEL_FAILOVER_TIMEOUT_MS: '60000' } });
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const m = c.pod(Number(master.split('-').pop()));
  const r = c.pod(c.ordinals.find((i) => c.pod(i).name !== master)!);
  await ask(r.ip, 6379, 'REPLICAOF', '127.0.0.254', '6379'); // nobody listens there
  const t0 = Date.now();
  await waitFor(
    'the replica follows the real master again, link up',
    async () => {
      const role = (await ask(r.ip, 6379, 'ROLE').catch(() => undefined)) as unknown[] | undefined;
      return role?.[0] === 'slave' && role[1] === m.ip && role[3] === 'connected' ? true : undefined;
    },
    20_000,
  );
  t.diagnostic(`repointed after ${Date.now() - t0} ms`);
  assert.deepEqual(c.labelledMasters(), [master]);
  const w = connect(m.ip, 6379);
  t.after(() => w.disconnect());
  await w.set('after-repoint', '1');
  assert.equal(Number(await w.call('WAIT', '2', '2000')), 2, 'both replicas acknowledge again');
  assert.ok(
    r.redis?.tail.some((l) => /pointed at 127\.\d+\.\d+\.\d+:6379/.test(l)),
    'the supervisor says what it did',
  );
});
