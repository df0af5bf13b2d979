// The fence's pause and the pauses other paths hold on the same master (Redis keeps one pause for them all): a fence
// cycle half-way when the SIGTERM handover stops the loop must not lift the handover's pause, and lifting the fence
// must not lift a switchover's pause (writes it held would be acknowledged by a master about to be replaced).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectKube, type Kube } from '../../src/kube/api.ts';
import { parseConfig } from '../../src/config/parse.ts';
import { createRecord, setPaused } from '../../src/kube/record.ts';
import { createRedisMetrics } from '../../src/runtime/metrics.ts';
import { FenceLoop } from '../../src/sentinel/redis-container/fence-loop.ts';
import { setPodState, statefulSetPod } from '../support/kube/kubelet.ts';
import { KubeStandin } from '../support/kube/server.ts';
import { stopAll } from '../support/processes.ts';
import { ask, connect, loopbackAddress, startRedis, startSentinel, type RedisInstance } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'fence';
let api: KubeStandin;
let kube: Kube;
let dir: string;
let ip: string;
let sentinel: RedisInstance;

before(async () => {
  api = await new KubeStandin().start();
  dir = await mkdtemp(join(tmpdir(), 'rhl-fence-halt-'));
  process.env.KUBECONFIG = await api.writeKubeconfig(dir, { namespace: NS });
  kube = connectKube(NS);
  ip = loopbackAddress();
  api.put('pods', statefulSetPod({ sts: 'redis', ordinal: 0, namespace: NS, labels: { app: 'redis' } }));
  setPodState(api, NS, 'redis-0', { phase: 'Running', podIP: ip, ready: true });
  await startRedis({ host: ip, dir: join(dir, 'r0') });
  sentinel = await startSentinel({
    host: ip,
    dir: join(dir, 's0'),
    master: { name: 'mymaster', host: ip, port: 6379, quorum: 1 },
  });
});
after(async () => {
  await stopAll();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

/** This pod's fence loop over the one Redis and Sentinel, a client that writes, and a way to cycle until. */
function fenceWorld() {
  const c = parseConfig({
    POD_NAME: 'redis-0',
    POD_NAMESPACE: NS,
    POD_IP: ip,
    REDIS_POD_SELECTOR: 'app=redis',
    LISTEN_ADDRESS: ip,
    FENCE_AFTER_MS: '200',
    PROBE_TIMEOUT_MS: '200',
    SENTINEL_QUORUM: '1',
  });
  const loop = new FenceLoop(c, kube, createRedisMetrics());
  const writes = connect(ip, 6379, { commandTimeout: 300, maxRetriesPerRequest: 0 });
  const state = loop as unknown as { fenced: boolean; lastConfirmedAt?: number };
  const cycleUntil = (what: string, done: () => boolean) =>
    waitFor(what, async () => {
      await loop.tick();
      return done() ? true : undefined;
    });
  return { c, loop, writes, state, cycleUntil };
}

test('a fence cycle under way when the handover stops the loop does not unpause what the handover paused', async () => {
  const { loop, writes } = fenceWorld();
  try {
    await waitFor('the Sentinel to confirm this master', async () => {
      await loop.tick();
      return (loop as unknown as { lastConfirmedAt?: number }).lastConfirmedAt;
    });
    // The Sentinel freezes: no majority names this master, and after FENCE_AFTER_MS it fences.
    sentinel.signal('SIGSTOP');
    await waitFor('the fence', async () => {
      await loop.tick();
      return (loop as unknown as { fenced: boolean }).fenced;
    });
    sentinel.signal('SIGCONT');
    // The next cycle finds the Sentinel again and would lift the fence; its read of the master of record (the
    // maintenance-mode check, just before CLIENT UNPAUSE) is held until the test lets it go.
    let release = false;
    const held = api.faults.add({ method: 'GET', path: /\/leases\//, delayMs: 10_000, until: () => release });
    const cycle = loop.tick();
    try {
      await waitFor('the cycle to reach its last check before unpausing', () => held.hits > 0);
      // SIGTERM: the handover stops the fence loop, then pauses writes itself.
      await loop.halt();
      await ask(ip, 6379, 'CLIENT', 'PAUSE', '5000', 'WRITE');
    } finally {
      release = true;
      await cycle;
      held.remove();
    }
    await assert.rejects(writes.set('k', 'v'), /timed out|Command timed out/i, 'writes are still paused');
  } finally {
    sentinel.signal('SIGCONT');
    writes.disconnect();
    await ask(ip, 6379, 'CLIENT', 'UNPAUSE');
  }
});

test('lifting the fence lets its own pause lapse and never lifts a pause another path holds', async () => {
  const { loop, writes, state, cycleUntil } = fenceWorld();
  const fenceThenLift = async (meanwhile: () => Promise<unknown>) => {
    await cycleUntil('the Sentinel to confirm this master', () => state.lastConfirmedAt !== undefined);
    sentinel.signal('SIGSTOP');
    await cycleUntil('the fence', () => state.fenced);
    await meanwhile();
    sentinel.signal('SIGCONT');
    await cycleUntil('the fence lifted', () => !state.fenced);
  };
  try {
    // Alone, the fence's pause lapses once it is no longer renewed.
    await fenceThenLift(async () => {
      await assert.rejects(writes.set('k', 'v'), /timed out/i, 'fenced: writes are paused');
    });
    await waitFor('writes resume', async () =>
      (await writes.set('k', 'v').catch(() => undefined)) ? true : undefined,
    );
    // A switchover pauses the same master for its failover while it is fenced: lifting the fence leaves that alone.
    await fenceThenLift(() => ask(ip, 6379, 'CLIENT', 'PAUSE', '20000', 'WRITE'));
    await assert.rejects(writes.set('k', 'v'), /timed out/i, "the switchover's pause still holds");
  } finally {
    sentinel.signal('SIGCONT');
    await loop.halt();
    writes.disconnect();
    await ask(ip, 6379, 'CLIENT', 'UNPAUSE');
  }
});

test('a fenced master demoted while the set is paused (maintenance): its fence stops renewing the pause', async () => {
  const { c, loop, writes, state, cycleUntil } = fenceWorld();
  try {
    await createRecord(kube, c.masterRecord, 'redis-0', ip);
    await cycleUntil('the Sentinel to confirm this master', () => state.lastConfirmedAt !== undefined);
    sentinel.signal('SIGSTOP');
    await cycleUntil('the fence', () => state.fenced);
    await setPaused(kube, c.masterRecord, true);
    // Sentinel's view aside, this Redis is made a replica (of nothing that answers). A pause on a replica holds up
    // what Sentinel sends it (its hello PUBLISH, then its PINGs): the fence must not keep renewing one there.
    await ask(ip, 6379, 'REPLICAOF', '127.0.0.1', '1');
    await waitFor('PUBLISH answered, not held by a pause', async () => {
      await loop.tick();
      return (await writes.publish('hello', 'x').then(
        () => true,
        () => false,
      ))
        ? true
        : undefined;
    });
  } finally {
    sentinel.signal('SIGCONT');
    await loop.halt();
    writes.disconnect();
    await ask(ip, 6379, 'REPLICAOF', 'NO', 'ONE');
    await ask(ip, 6379, 'CLIENT', 'UNPAUSE');
    await setPaused(kube, c.masterRecord, false).catch(() => undefined);
  }
});
