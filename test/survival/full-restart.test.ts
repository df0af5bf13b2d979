// Full restart, three times over in `npm test`, five in `npm run chaos` (`CHAOS_RESTARTS`): every pod stopped as
// the kubelet stops it and deleted, then recreated with new IPs in a random order, some held Pending for a while,
// with the kubelet's probes. Every WAIT-confirmed key is kept each time, the previous master stays master, and no
// two pods are ever labelled master.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testCluster, watchMasterLabels } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { shuffle } from '../support/random.ts';
import { waitFor } from '../support/wait.ts';
import { missingKeys } from '../support/writer.ts';

const RESTARTS = Number(process.env.CHAOS_RESTARTS ?? 3);
const ord = (name: string) => Number(name.split('-').pop());

test(
  `full restart x${RESTARTS}, random order, some pods Pending: every key and the master kept`,
  {
    timeout: 60_000 + RESTARTS * 120_000,
  },
  async (t) => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);
    const { api, c } = await testCluster(t, 'full-restart', {
      probes: { timeScale: 0.5 },
      env: { HANDOVER_TIMEOUT_MS: '8000', REDIS_STOP_TIMEOUT_MS: '8000' },
    });
    const labels = watchMasterLabels(c);
    t.after(labels.stop);
    await c.startAll();
    let master = await c.settled('boot', 60_000);
    const keys: string[] = [];
    for (let round = 1; round <= RESTARTS; round++) {
      // Keys written before this restart, each confirmed by a replica.
      const ip = c.pod(ord(master)).ip;
      for (let k = 0; k < 50; k++) {
        const key = `round${round}:${k}`;
        assert.equal(await ask(ip, 6379, 'SET', key, String(k)), 'OK');
        keys.push(key);
      }
      assert.ok(Number(await ask(ip, 6379, 'WAIT', '2', '5000')) >= 1, 'the keys reached a replica');

      const order = shuffle(c.ordinals, seed + round);
      const pending = order.slice(0, 1 + (round % 2)); // one or two pods come up late
      await c.stopAll();
      for (const i of c.ordinals) api.deleteObject('pods', c.ns, c.pod(i).name);
      for (const i of order) {
        if (pending.includes(i)) await c.createPendingPod(i, { newIp: true });
        else await c.startPod(i, { newIp: true });
      }
      // The pods that are up must not elect a master over the Pending ones' data before they are seen.
      const held = Date.now() + 3000;
      await waitFor('the Pending pods held', () => (Date.now() >= held ? true : undefined), 10_000);
      for (const i of pending) await c.startPod(i);
      const now = await c.settled(`restart ${round} (seed ${seed}, order ${order.join(',')})`, 90_000);
      t.diagnostic(`restart ${round}: order ${order.join(',')}, pending ${pending.join(',')}, master ${now}`);
      assert.equal(now, master, `restart ${round} (seed ${seed}): the previous master is kept`);
      master = now;
      const missing = await missingKeys(c.pod(ord(master)).ip, keys);
      assert.deepEqual(missing, [], `restart ${round} (seed ${seed}): every key kept`);
    }
    assert.deepEqual(labels.doubles, [], 'never two pods labelled master');
  },
);
