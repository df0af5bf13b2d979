// Hostnames mode (REDIS_HOSTNAMES): each pod in its own network namespace with a hosts file that names every pod
// <pod>.redis-headless.redis.svc.cluster.local, as the cluster DNS does. Redis and Sentinel announce and resolve
// those names; a pod recreated with a new IP keeps its identity, so the Sentinels hold no stale address and need
// no reset; a full restart (every pod with a new IP) keeps the master and every key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptLog, testCluster, type LocalCluster } from '../support/cluster.ts';
import { Network } from '../support/netns.ts';
import { askWith, connect } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const skip = Network.unavailable();
const ord = (name: string) => Number(name.split('-').pop());
const NAME = /^redis-\d\.redis-headless\.redis\.svc\.cluster\.local$/;

/** What every Sentinel remembers: the master, the replicas and the other Sentinels, by host. */
async function sentinelMemory(c: LocalCluster): Promise<string[]> {
  const out: string[] = [];
  for (const i of c.ordinals) {
    const ip = c.pod(i).ip;
    const hosts = (reply: unknown) =>
      ((reply as string[][] | undefined) ?? []).map((flat) => flat[flat.indexOf('ip') + 1]);
    const m = (await askWith({}, ip, 26379, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[] | null;
    out.push(
      ...(m ? [m[0]] : []),
      ...hosts(await askWith({}, ip, 26379, 'SENTINEL', 'REPLICAS', 'mymaster')),
      ...hosts(await askWith({}, ip, 26379, 'SENTINEL', 'SENTINELS', 'mymaster')),
    );
  }
  return out;
}

test(
  'hostnames: failover, a pod back with a new IP rejoins under its name with no reset, a full restart keeps all',
  { skip },
  async (t) => {
    const network = Network.create(t);
    const kept = keptLog();
    const { c } = await testCluster(t, 'hostnames', {
      network,
      // A new pod's name resolves 1.5 s after it has its IP, as with the endpoints controller and the cluster DNS.
      dnsLagMs: 1500,
      log: kept.log,
      env: { REDIS_HOSTNAMES: 'true', REDIS_HEADLESS_SERVICE: 'redis-headless' },
    });
    await c.startAll();
    const first = await c.settled('boot', 60_000);
    const names = await waitFor('every Sentinel knows 2 replicas and 2 peers, by name', async () => {
      const m = await sentinelMemory(c);
      return m.length === 3 * 5 ? m : undefined;
    });
    assert.ok(
      names.every((h) => NAME.test(h)),
      `the Sentinels know the pods by name only: ${names.join(', ')}`,
    );
    const role = await c.launcherRole(ord(first));
    assert.match(role.stdout, /^pod: {4}redis-\d \(redis-\d\.redis-headless\.redis\.svc\.cluster\.local\)$/m);

    // Keys written through the master, each acknowledged by a replica.
    const w = connect(c.pod(ord(first)).ip, 6379);
    for (let n = 0; n < 500; n++) await w.set(`k${n}`, String(n));
    assert.ok(Number(await w.call('WAIT', '2', '5000')) >= 1, 'a replica acknowledged the keys');
    w.disconnect();

    // Failover: the master killed; a replica takes over under its name, the labels follow.
    await c.killPod(ord(first));
    const second = await c.relabelledFrom(first, 30_000);
    // The old master's pod is recreated with a new IP: it rejoins as a replica under its old name.
    const oldIp = c.pod(ord(first)).ip;
    c.api.deleteObject('pods', c.ns, first);
    await c.startPod(ord(first), { newIp: true });
    assert.notEqual(c.pod(ord(first)).ip, oldIp, 'a new IP');
    assert.equal(await c.converged('rejoined under its name', 60_000), second);
    // A replica recreated the same way (a reschedule): still no stale address.
    const replica = c.ordinals.find((i) => c.pod(i).name !== second)!;
    await c.recreatePod(replica, 'term');
    assert.equal(await c.converged('the rescheduled replica rejoined', 60_000), second);
    const after = await waitFor('every Sentinel lists 2 replicas and 2 peers again', async () => {
      const m = await sentinelMemory(c);
      return m.length === 3 * 5 ? m : undefined;
    });
    assert.ok(
      after.every((h) => NAME.test(h)),
      `no stale address: ${after.join(', ')}`,
    );
    assert.deepEqual(
      kept.lines.filter((l) => l.includes('SENTINEL RESET')),
      [],
      'no Sentinel needed a reset',
    );

    // A full restart, every pod with a new IP: the master stays, every key is there.
    await Promise.all(c.ordinals.map((i) => c.stopPod(i)));
    for (const i of c.ordinals) c.api.deleteObject('pods', c.ns, c.pod(i).name);
    await Promise.all(c.ordinals.map((i) => c.startPod(i, { newIp: true })));
    assert.equal(await c.settled('after the full restart', 90_000), second, 'the master stays the master');
    const r = connect(c.pod(ord(second)).ip, 6379);
    t.after(() => r.disconnect());
    assert.equal(await r.dbsize(), 500, 'every key kept');
  },
);
