// A set watched by dedicated Sentinels restarted whole (every pod stopped and deleted, recreated with new IPs)
// while its Sentinels keep running: they still name the old master's address, which no pod has any more, and know
// only old replica addresses, so they can never fail over. The set must come back (by its master of record) with
// every key, and the Sentinels must be pointed at it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptLog, watchMasterLabels } from '../support/cluster.ts';
import { testSentinelGroup } from '../support/sentinel-group.ts';
import { ask, askWith } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const ord = (name: string) => Number(name.split('-').pop());

test('dedicated Sentinels, IP mode: a set restarted whole comes back with its keys, Sentinels repointed', async (t) => {
  const kept = keptLog();
  const g = await testSentinelGroup(t, 'dedicated-restart', { log: kept.log });
  const a = await g.addSet('redis-a');
  await Promise.all([g.sentinels.startAll(), a.startAll()]);
  const master = await a.settled('boot', 60_000);
  const labels = watchMasterLabels(a);
  t.after(labels.stop);
  const ip = a.pod(ord(master)).ip;
  for (let k = 0; k < 100; k++) assert.equal(await ask(ip, 6379, 'SET', `k${k}`, String(k)), 'OK');
  assert.ok(Number(await ask(ip, 6379, 'WAIT', '2', '5000')) >= 1, 'the keys reached a replica');

  await a.stopAll();
  for (const i of a.ordinals) g.api.deleteObject('pods', a.ns, a.pod(i).name);
  // Not Ready until their readiness says so, as the kubelet has it (settled() waits for /readyz).
  for (const i of a.ordinals) await a.startPod(i, { newIp: true, ready: false });

  const now = await a.settled('after the whole set was restarted with new IPs', 120_000);
  assert.equal(now, master, 'the master of record is kept');
  const newIp = a.pod(ord(now)).ip;
  for (const i of g.sentinels.ordinals) {
    await waitFor(`sentinel-${i} names ${now} (${newIp})`, async () => {
      const r = (await askWith({}, g.sentinels.pod(i).ip, 26379, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'redis-a')) as
        string[] | undefined;
      return r?.[0] === newIp;
    });
  }
  let missing = 0;
  for (let k = 0; k < 100; k++) if ((await ask(newIp, 6379, 'GET', `k${k}`)) !== String(k)) missing++;
  assert.equal(missing, 0, 'every key kept');
  assert.deepEqual(labels.doubles, [], 'never two pods labelled master');
});
