// The real-Redis test helpers: own loopback address per instance, announce addresses, cleanup by PID.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ask, loopbackAddress, startRedis, startSentinel } from '../support/redis.ts';
import { tempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('master, replica and Sentinel on their own loopback addresses see each other by those addresses', async (t) => {
  const dir = await tempDir(t);
  const [a, b, s] = [loopbackAddress(), loopbackAddress(), loopbackAddress()];
  assert.notEqual(a, b);
  const master = await startRedis({ host: a, dir: `${dir}/a` });
  t.after(() => master.stop());
  const replica = await startRedis({ host: b, dir: `${dir}/b`, conf: [`replicaof ${a} 6379`] });
  t.after(() => replica.stop());
  await waitFor('replica listed by the master under its own address', async () => {
    const role = (await ask(a, 6379, 'ROLE')) as [string, number, [string, string, string][]];
    return role?.[2]?.some(([ip]) => ip === b);
  });
  const sentinel = await startSentinel({
    host: s,
    dir: `${dir}/s`,
    master: { name: 'mymaster', host: a, port: 6379, quorum: 1 },
  });
  t.after(() => sentinel.stop());
  await waitFor('Sentinel discovers the replica at its announced address', async () => {
    const reps = (await ask(s, 26379, 'SENTINEL', 'REPLICAS', 'mymaster')) as string[][] | undefined;
    return reps?.some((r) => r[r.indexOf('ip') + 1] === b);
  });
  const pids = [master.pid, replica.pid, sentinel.pid];
  await Promise.all([master.stop(), replica.stop(), sentinel.stop()]);
  assert.deepEqual(pids.map(alive), [false, false, false]);
});
