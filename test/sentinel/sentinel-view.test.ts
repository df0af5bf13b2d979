// What a Sentinel names as the master while it is still reconfiguring the other replicas after a failover: the
// replica it promoted, as it tells its clients and the other Sentinels (GET-MASTER-ADDR-BY-NAME), not the old
// address SENTINEL MASTER keeps until the failover ends. A replica that needs a full resync keeps a failover in that
// state for seconds (a planned handover, now and then): counting the leader for the old master then made the new
// master unconfirmed (NotReady, out of the Service) while its label already said master.
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
  // Never promoted, and stopped during the failover: Sentinel stays at reconfiguring it (long down-after).
  const stuck = await startRedis({ host: b, dir: join(dir, 'b'), conf: [`replicaof ${m} 6379`, 'replica-priority 0'] });
  t.after(() => stuck.signal('SIGCONT'));
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
  stuck.signal('SIGSTOP');
  assert.equal(await ask(s, 26379, 'SENTINEL', 'FAILOVER', 'mymaster'), 'OK');
  await waitFor('the Sentinel reconfiguring the replicas', async () => {
    const master = (await ask(s, 26379, 'SENTINEL', 'MASTER', 'mymaster')) as string[] | undefined;
    return master?.[master.indexOf('failover-state') + 1] === 'reconf_slaves';
  });
  const view = await askSentinel({ host: sentinel.host, port: sentinel.port }, 'mymaster', { timeoutMs: 2000 });
  assert.deepEqual(view.master, { host: a, port: 6379 }, 'the promoted replica');
  assert.equal(view.failoverInProgress, true);
});
