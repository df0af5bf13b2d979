// What a Sentinel says while it still reconfigures the other replicas after a failover: SENTINEL MASTER keeps the
// old address until the failover ends, but it already gives out the replica it promoted (GET-MASTER-ADDR-BY-NAME,
// to clients and to the other Sentinels). A replica that needs a full resync keeps a failover in that state for
// seconds (after a planned handover, now and then): the view carries both, the fence and the heal go by the
// first, readiness also by the second (rules/readiness.ts), as the label does (promote/relabel.ts).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { askSentinel } from '../../src/redis/client.ts';
import { stopAll } from '../support/processes.ts';
import { ask, loopbackAddress, startRedis, startSentinel } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

test('a Sentinel reconfiguring replicas after a failover names the replica it promoted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rhl-sentinel-view-'));
  t.after(async () => {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });
  const [m, a, b, s] = [0, 1, 2, 3].map(() => loopbackAddress());
  await startRedis({ host: m, dir: join(dir, 'm') });
  await startRedis({ host: a, dir: join(dir, 'a'), conf: [`replicaof ${m} 6379`] });
  // Never promoted, and stopped during the failover: Sentinel keeps reconfiguring it (till its reconf timeout).
  const stuck = await startRedis({ host: b, dir: join(dir, 'b'), conf: [`replicaof ${m} 6379`, 'replica-priority 0'] });
  t.after(() => stuck.signal('SIGCONT'));
  // Sentinel finds replicas in the master's INFO, read at once and then every 10 s: both must be there first.
  await waitFor('the master lists both replicas', async () => {
    const role = (await ask(m, 6379, 'ROLE')) as [string, number, unknown[]] | undefined;
    return role?.[2]?.length === 2;
  });
  const sentinel = await startSentinel({
    host: s,
    dir: join(dir, 's'),
    master: { name: 'mymaster', host: m, port: 6379, quorum: 1 },
    downAfterMs: 30_000,
    failoverTimeoutMs: 60_000,
  });
  await waitFor('the Sentinel knows both replicas, in sync', async () => {
    const replicas = (await ask(s, 26379, 'SENTINEL', 'REPLICAS', 'mymaster')) as string[][] | undefined;
    return replicas?.length === 2 && replicas.every((r) => r[r.indexOf('master-link-status') + 1] === 'ok');
  });
  // The window to look in: Sentinel's reconf timeout (10 s) made long.
  assert.equal(await ask(s, 26379, 'SENTINEL', 'DEBUG', 'SLAVE-RECONF-TIMEOUT', '60000'), 'OK');
  stuck.signal('SIGSTOP');
  assert.equal(await ask(s, 26379, 'SENTINEL', 'FAILOVER', 'mymaster'), 'OK');
  await waitFor('the Sentinel reconfiguring the replicas', async () => {
    const master = (await ask(s, 26379, 'SENTINEL', 'MASTER', 'mymaster')) as string[] | undefined;
    return master?.[master.indexOf('failover-state') + 1] === 'reconf_slaves';
  });
  const view = await askSentinel({ host: sentinel.host, port: sentinel.port }, 'mymaster', { timeoutMs: 2000 });
  assert.deepEqual(view.master, { host: m, port: 6379 }, 'SENTINEL MASTER: the old address until the end');
  assert.deepEqual(view.promoted, { host: a, port: 6379 }, 'the replica it promoted, which it gives out');
  assert.equal(view.failoverInProgress, true);
});
