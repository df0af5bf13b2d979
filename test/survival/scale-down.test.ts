// Scale down and ghosts: 5 pods scaled to 3 (highest ordinals first, as the StatefulSet controller does), then the
// master's pod killed with its Sentinel. The Sentinels of the removed pods must not keep raising the majority a
// failover needs (2 live Sentinels of 5 remembered could elect no leader): the hygiene loop makes the Sentinels
// forget them, and the failover happens. Scaled back to 5: no Sentinel keeps an address no pod has.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptLog, testCluster, type LocalCluster } from '../support/cluster.ts';
import { ask } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const ord = (name: string) => Number(name.split('-').pop());

/** Every address the live Sentinels remember (replicas and other Sentinels) that no current pod has. */
async function ghosts(c: LocalCluster): Promise<string[]> {
  const ips = new Set(c.ordinals.map((i) => c.pod(i).ip));
  const out: string[] = [];
  for (const i of c.ordinals) {
    for (const kind of ['REPLICAS', 'SENTINELS']) {
      const entries = (await ask(c.pod(i).ip, 26379, 'SENTINEL', kind, 'mymaster')) as string[][] | undefined;
      if (!entries) throw new Error(`the Sentinel of ${c.pod(i).name} does not answer`);
      for (const e of entries) {
        const ip = e[e.indexOf('ip') + 1];
        if (!ips.has(ip)) out.push(`${c.pod(i).name}: ${kind.toLowerCase()} ${ip}`);
      }
    }
  }
  return out;
}

/** Every live Sentinel knows every other live pod as a replica or a Sentinel, and nothing else. */
async function knowsAll(c: LocalCluster): Promise<boolean> {
  for (const i of c.ordinals) {
    for (const kind of ['REPLICAS', 'SENTINELS']) {
      const entries = (await ask(c.pod(i).ip, 26379, 'SENTINEL', kind, 'mymaster')) as string[][] | undefined;
      if (!entries || entries.length !== c.ordinals.length - 1) return false;
    }
  }
  return (await ghosts(c)).length === 0;
}

test('scale 5 -> 3, then the master killed: the Sentinels fail over; 3 -> 5 again: no ghost addresses', async (t) => {
  const kept = keptLog();
  const { c } = await testCluster(t, 'scale-down', { probes: { timeScale: 0.5 }, log: kept.log });
  // What the hygiene loops last said, for a failure's message: why a Sentinel has not reset yet.
  const hygiene = () =>
    kept.lines
      .filter((l) => /stale sentinel|SENTINEL RESET|hygiene of|re-point/.test(l))
      .slice(-12)
      .join('\n');
  await c.startAll([0, 1, 2, 3, 4]);
  const master = await c.settled('5 pods', 60_000);
  assert.ok(ord(master) < 3, 'the master is not among the pods removed');

  await c.scaleDown(3);
  const remembered = await ghosts(c);
  t.diagnostic(`right after the scale-down the Sentinels remember: ${remembered.join('; ')}`);
  assert.ok(remembered.length > 0, 'there are ghosts to forget');
  const noGhosts = async () => {
    const left = await ghosts(c);
    if (left.length) throw new Error(`${left.join('; ')}\nthe hygiene loops last said:\n${hygiene()}`);
    return true;
  };
  await waitFor('the Sentinels forget the removed pods', noGhosts, 60_000, 500);
  // ...and, after their resets, know the two replicas and the two other Sentinels again: a Sentinel that has just
  // been reset knows no replica until it has asked the master, and could not lead a failover in that second.
  await waitFor('every Sentinel knows the live replicas and Sentinels again', () => knowsAll(c), 60_000, 500);

  await c.killPod(ord(master));
  const next = await c.relabelledFrom(master, 30_000);
  await c.recreatePod(ord(master), 'kill');
  assert.equal(await c.converged('after the failover', 60_000), next);

  await c.scaleTo(5);
  assert.equal(await c.converged('5 pods again', 60_000), next);
  await Promise.all(c.ordinals.map((i) => c.waitReady(i, 60_000)));
  await waitFor('no Sentinel keeps an address no pod has', noGhosts, 60_000, 500);
});
