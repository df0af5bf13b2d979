// The pods-with-their-own-network harness (test/support/netns.ts): names resolve through each namespace's hosts
// file, cuts are one-way or both ways and heal, an isolated host is unreachable even from the test, rate limits
// apply, a StatefulSet of real launchers runs on it, and nothing is left behind. Skips, saying why, where the
// machine does not allow network namespaces.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { Network, type Host } from '../support/netns.ts';
import { startProcess, stopAll } from '../support/processes.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const skip = Network.unavailable();

/**
 * redis-cli PING run inside `from`'s namespace against `to` (a name or an address): the reply; 'hangs' when it
 * had no answer after 2 s (redis-cli 7.0 waits for its connect without a deadline); else what went wrong.
 */
function ping(net: Network, from: Host, to: string): string {
  const [file, ...args] = [...net.exec(from), 'redis-cli', '-h', to, 'PING'];
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 2000 });
  return r.signal ? 'hangs' : (r.stdout + r.stderr).trim();
}

test(
  'hosts reach each other by name; cuts one-way and both ways heal; isolation; rate limits; teardown',
  { skip },
  async (t) => {
    const net = Network.create(t);
    t.after(stopAll);
    const a = net.add('redis-a', 'redis-a.redis-headless.redis.svc.cluster.local');
    const b = net.add('redis-b');
    const redis = ['redis-server', '--bind', a.ip, '--port', '6379', '--save', '', '--protected-mode', 'no'];
    const [file, ...args] = [...net.exec(a), ...redis];
    const server = startProcess('redis-a', file, args);
    await waitFor('redis in its namespace answers the test', async () => (await ask(a.ip, 6379, 'PING')) === 'PONG');
    assert.equal(ping(net, b, 'redis-a'), 'PONG', 'by name, from the other namespace');
    assert.equal(ping(net, b, 'redis-a.redis-headless.redis.svc.cluster.local'), 'PONG', 'by its fully qualified name');
    assert.match(
      ping(net, a, '127.0.0.1'),
      /refused/,
      'a namespace has its own loopback: nothing of the test listens there',
    );

    net.cut(b, a);
    assert.equal(ping(net, b, 'redis-a'), 'hangs', 'cut one way, b to a: lost silently, no error at once');
    assert.equal(await ask(a.ip, 6379, 'PING'), 'PONG', 'the test still reaches a');
    net.heal();
    assert.equal(ping(net, b, 'redis-a'), 'PONG', 'healed');

    net.partition([a], [b]);
    assert.equal(ping(net, b, 'redis-a'), 'hangs', 'partitioned');
    assert.equal(ping(net, a, 'redis-b'), 'hangs', 'partitioned, the other way');
    net.heal();
    net.isolate(a);
    assert.equal(await ask(a.ip, 6379, 'PING'), undefined, 'isolated: not even the test reaches it');
    net.heal();
    assert.equal(await ask(a.ip, 6379, 'PING'), 'PONG');

    net.slow(a, 512);
    assert.match(execFileSync('tc', ['qdisc', 'show', 'dev', a.veth], { encoding: 'utf8' }), /tbf .*rate 512Kbit/);
    net.heal();

    await server.stop(5000);
    const namespaces = net.namespaces();
    assert.equal(namespaces.length, 2);
    await net.close();
    assert.deepEqual(net.namespaces(), [], 'every namespace deleted');
    for (const ns of namespaces) assert.ok(!existsSync(`/etc/netns/${ns}`), `hosts file of ${ns} removed`);
    assert.doesNotMatch(
      execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }),
      new RegExp(a.veth.replace('.', '\\.')),
    );
  },
);

test(
  'a StatefulSet of real launchers on its own network: pods reach the API on the gateway and each other',
  { skip },
  async (t) => {
    const network = Network.create(t);
    const { c } = await testCluster(t, 'netns', { network });
    await c.startAll();
    const master = await c.converged('converged on a network of namespaces', 40_000);
    assert.match(c.pod(Number(master.split('-').pop())).ip, new RegExp(`^${network.gateway.replace(/\.1$/, '')}`));
    assert.deepEqual(c.labelledMasters(), [master]);
  },
);
