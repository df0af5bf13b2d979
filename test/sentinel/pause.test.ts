// Maintenance mode: `launcher pause` stops every supervisor from acting (a wrong label stays wrong, a master that
// stops hands nothing over, after Sentinel's failover neither the supervisors nor promote move the label, though
// the master of record follows it) while status says since when; `launcher resume` lets them act again and the set
// converges.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { REPO, testCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';

test('pause: the supervisors observe but do not act; resume: they act again', async (t) => {
  const { api, c } = await testCluster(t, 'pause');
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const ord = (name: string) => Number(name.split('-').pop());
  const replica = c.pod(c.ordinals.find((i) => i !== ord(master))!);
  const launcher = (...args: string[]) =>
    execa(process.execPath, [join(REPO, 'bin/launcher'), ...args], {
      env: { ...c.env(replica), REDIS_CONF_DIR: join(replica.dir, 'conf') },
      reject: false,
      timeout: 20_000,
    });

  const p = await launcher('pause');
  assert.equal(p.exitCode, 0, String(p.stderr));
  assert.match(String(p.stdout), /^paused since \d{4}-\d\d-\d\dT/);
  const st = await launcher('status');
  assert.equal(st.exitCode, 1);
  assert.match(String(st.stdout), /verdict: degraded: the set is paused \(maintenance mode\) since \d{4}-/);

  // A replica labelled master on purpose: with reconcile every second, 4 s is four chances to fix it; none taken.
  const pod = api.getObject('pods', c.ns, replica.name)!;
  api.put('pods', {
    ...pod,
    metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, 'redis-role': 'master' } },
  });
  const until = Date.now() + 4000;
  await waitFor('the observation window', () => (Date.now() >= until ? true : undefined), 10_000);
  assert.equal(c.labels()[replica.name], 'master', 'paused: the wrong label stays');
  assert.ok(
    replica.redis?.tail.some((l) => /label: .*paused since .*, so not done/.test(l)),
    'the supervisor says what it would do',
  );

  // The master stops while paused: no handover.
  await c.stopPod(ord(master));
  assert.ok(
    c.pod(ord(master)).redis?.tail.some((l) => /while the set is paused .*: no handover/.test(l)),
    'no handover while paused',
  );

  // Sentinel still fails over (not the launcher's to stop); no supervisor and no promote moves the label.
  const oldIp = c.pod(ord(master)).ip;
  await waitFor('the Sentinels name another master', async () => {
    const views = await c.sentinelViews();
    const live = views.filter((v): v is string => Boolean(v));
    return live.length >= 2 && live.every((v) => !v.startsWith(`${oldIp}:`)) ? true : undefined;
  });
  // The master of record is a safety fact, not a label: it follows the failover while the labels stay frozen (a
  // full restart during the pause must not elect the pre-failover master).
  const promoted = c.podByIp((await c.sentinelViews()).find((v): v is string => Boolean(v))!.split(':')[0])!.name;
  await waitFor('the master of record names the new master', () =>
    api.getObject('leases', c.ns, 'mymaster-master')?.spec?.holderIdentity === promoted ? true : undefined,
  );
  const hold = Date.now() + 3000;
  await waitFor('the observation window', () => (Date.now() >= hold ? true : undefined), 10_000);
  assert.deepEqual(c.labelledMasters().sort(), [master, replica.name].sort(), 'paused: no relabel after the failover');

  const r = await launcher('resume');
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.match(String(r.stdout), /^resumed/);
  await c.startPod(ord(master));
  const now = await c.converged('after resume', 40_000);
  assert.deepEqual(c.labelledMasters(), [now]);
  await waitFor('status healthy again', async () => ((await launcher('status')).exitCode === 0 ? true : undefined));
});
