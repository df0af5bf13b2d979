// A set of two pods: a failover needs both Sentinels (a majority of 2), so while the replica restarts nobody can
// elect another master, and the master must keep taking writes, not fence itself (issue 24, defect 3: need =
// max(quorum, majority) counted the missing Sentinel against it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptLog, testCluster } from '../support/cluster.ts';
import { connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const ord = (name: string) => Number(name.split('-').pop());

test('2 pods: while the replica (and its Sentinel) restarts, the master is not fenced and takes writes', async (t) => {
  const { lines: logged, log } = keptLog();
  const { c } = await testCluster(t, 'two-pods', { log, env: { SENTINEL_QUORUM: '1' } });
  await c.startAll([0, 1]);
  const master = await c.settled('boot', 60_000);
  const replica = 1 - ord(master);
  const client = connect(c.pod(ord(master)).ip, 6379, { commandTimeout: 500, maxRetriesPerRequest: 0 });
  t.after(() => client.disconnect());
  await waitFor(
    'both Sentinels to name the master',
    async () => (await c.sentinelViews()).filter(Boolean).length === 2,
  );
  await c.stopPod(replica);
  const since = Date.now();
  let writes = 0;
  // Four times FENCE_AFTER_MS (half of down-after-milliseconds, 1 s here) and more: a fence would have come.
  await waitFor(
    '3 s of writes with the replica down',
    async () => {
      assert.equal(await client.set(`k${writes}`, 'v'), 'OK');
      writes++;
      return Date.now() - since >= 3000;
    },
    10_000,
    50,
  );
  assert.deepEqual(
    logged.filter((l) => /fenced: /.test(l)),
    [],
    'not fenced',
  );
  assert.ok(writes > 10, `writes went on (${writes})`);
  await c.startPod(replica);
  assert.equal(await c.converged('the replica back', 60_000), master);
});
