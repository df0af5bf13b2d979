// The Kubernetes API failing under the launcher (every request answered 503, as an apiserver behind a load balancer
// does while it restarts), with the kubelet's probes running:
//   - a replica's container restarted meanwhile still starts Redis, as a replica of the master its Sentinels agree
//     on, and says why; its label and the rest converge once the API is back;
//   - a failover meanwhile: promote exits 1 (Sentinel retries it), no label moves, and once the API is back the
//     labels follow the new master.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptLog, testCluster, watchMasterLabels } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const ord = (name: string) => Number(name.split('-').pop());

test('API down: a restarted replica rejoins as the Sentinels say; a failover relabelled once it is back', async (t) => {
  const { lines: logged, log } = keptLog();
  const { api, c } = await testCluster(t, 'api-faults', { probes: { timeScale: 0.5 }, log });
  const labels = watchMasterLabels(c);
  t.after(labels.stop);
  await c.startAll();
  const master = await c.settled('boot', 60_000);
  const replica = c.pod(c.ordinals.find((i) => c.pod(i).name !== master)!);
  const masterIp = c.pod(ord(master)).ip;

  // As when the apiserver restarts: open watch streams end, and every request (watches too) is answered 503.
  const down = api.faults.add({ status: 503 });
  api.dropWatches();
  const killed = replica.redis;
  killed?.signal('SIGKILL');
  await waitFor('the kubelet restarted the container', () => replica.redis !== killed, 30_000);
  await waitFor(
    'Redis started as a replica of the master the Sentinels agree on',
    async () => {
      const role = (await ask(replica.ip, 6379, 'ROLE')) as unknown[] | undefined;
      return role?.[0] === 'slave' && role[1] === masterIp && role[3] === 'connected';
    },
    30_000,
    100,
  );
  const said = logged.filter((l) => l.startsWith(`[${replica.name}] `));
  const decided = said.findLast((l) => /decided: /.test(l)) ?? '';
  assert.match(decided, new RegExp(`decided: replica of ${masterIp.replace(/\./g, '\\.')}:6379`));
  assert.ok(
    said.some((l) => /because the Kubernetes API cannot be read \(the server is currently unable/.test(l)),
    said.slice(-30).join('\n'),
  );
  assert.ok(down.hits > 0);
  // The master kept taking writes: without the API it cannot tell which Sentinels exist, so it does not fence.
  assert.equal(await ask(masterIp, 6379, 'SET', 'during-the-outage', '1'), 'OK');
  assert.deepEqual(
    logged.filter((l) => /fenced: /.test(l)),
    [],
    'no master fenced itself for an API outage',
  );

  // A failover while the API is down: Sentinel promotes, promote cannot write and exits 1; no label moves.
  await c.killPod(ord(master));
  const next = await waitFor(
    'the Sentinels name a new master',
    async () => {
      const views = await c.sentinelViews();
      const live = views.filter((v): v is string => Boolean(v));
      return live.length >= 2 && live.every((v) => v === live[0] && !v.startsWith(`${masterIp}:`))
        ? live[0]
        : undefined;
    },
    30_000,
  );
  const stale = Date.now() + 2000;
  await waitFor('a look while the API is down', () => (Date.now() >= stale ? true : undefined), 5000);
  assert.deepEqual(c.labelledMasters(), [master], 'nothing could be written: the labels are as they were');

  down.remove();
  const labelled = await waitFor(
    'the labels follow the new master once the API is back',
    () => {
      const l = c.labelledMasters();
      return l.length === 1 && l[0] !== master ? l[0] : undefined;
    },
    30_000,
  );
  assert.equal(`${c.pod(ord(labelled)).ip}:6379`, next);
  await c.recreatePod(ord(master), 'kill');
  assert.equal(await c.converged('after the outage', 60_000), labelled);
  assert.deepEqual(labels.doubles, [], 'never two pods labelled master');
});

test('a slow API (every answer 2 s late) and a 409 storm on the Leases during a failover: labels follow', async (t) => {
  const { api, c } = await testCluster(t, 'api-slow', { probes: { timeScale: 0.5 } });
  const labels = watchMasterLabels(c);
  t.after(labels.stop);
  await c.startAll();
  const master = await c.settled('boot', 60_000);
  // Watches stay open; every other answer is late (within the client's 5 s deadline), and the next 10 writes of a
  // Lease (the label lock, the master of record) lose a compare-and-swap race.
  // (The first matching rule acts: the storm before the slowness.)
  const storm = api.faults.add({ method: ['PUT', 'PATCH'], path: /\/leases\//, status: 409, times: 10 });
  const slow = api.faults.add({ match: (r) => r.query.get('watch') !== 'true', delayMs: 2000 });
  const killedAt = Date.now();
  await c.killPod(ord(master));
  const next = await c.relabelledFrom(master, 60_000);
  t.diagnostic(
    `labelled ${next} ${Date.now() - killedAt} ms after the kill; ${storm.hits} conflicts, ${slow.hits} slow`,
  );
  assert.ok(storm.hits > 0, 'the Lease writes met conflicts');
  slow.remove();
  storm.remove();
  await c.recreatePod(ord(master), 'kill');
  assert.equal(await c.converged('after the storm', 60_000), next);
  assert.deepEqual(labels.doubles, [], 'never two pods labelled master');
});
