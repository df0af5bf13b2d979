// Kill chaos: a set under continuous writes (a Service client and a Sentinel-aware client, each counting a write
// only when WAIT 1 confirms it), the kubelet's probes running, and round after round the current master killed
// at random in one of three ways; convergence between rounds. Reports acknowledged writes lost, moments with two
// pods labelled master, per-round unavailability and convergence. `npm test` runs 3 rounds, `npm run chaos` more.
import type { TestContext } from 'node:test';
import { testCluster, watchMasterLabels } from './cluster.ts';
import { seeded } from './random.ts';
import { waitFor } from './wait.ts';
import { missingKeys, SentinelWriter, ServiceWriter } from './writer.ts';

/**
 * - `container`: SIGKILL of the Redis container's processes; the kubelet restarts it in place (same IP).
 * - `pod`: the pod is deleted (its processes SIGKILLed) and recreated with a new IP.
 * - `node`: both containers SIGKILLed at once and the Pod object left as it was (a dead node reports nothing);
 *   the node comes back after the set has converged without it.
 */
export type KillStyle = 'container' | 'pod' | 'node';
const STYLES: KillStyle[] = ['container', 'pod', 'node'];

export type Round = {
  round: number;
  style: KillStyle;
  victim: string;
  newMaster: string;
  /** The longest time without a confirmed write, per client, from the last one before the kill to convergence. */
  unavailableMs: { service: number; sentinel: number };
  /** From the kill to one master, labels true, every Sentinel agreeing and every pod Ready again. */
  convergedMs: number;
};

export type ChaosResult = {
  seed: number;
  rounds: Round[];
  acknowledged: { service: number; sentinel: number };
  lost: { service: number; sentinel: number };
  doubleMasterLabels: number;
  labelWritesChecked: number;
};

const ord = (name: string) => Number(name.split('-').pop());

/** The first confirmed write at or after `since`, as ms after it. */
const nextAck = (acked: { at: number }[], since: number) => {
  const a = acked.find((x) => x.at >= since);
  return a ? a.at - since : Infinity;
};

/** The longest gap between confirmed writes from the last one before `from` to the first one after `to`. */
function longestGap(acked: { at: number }[], from: number, to: number): number {
  const start = acked.findLastIndex((a) => a.at < from);
  const end = acked.findIndex((a) => a.at > to);
  let gap = 0;
  for (let k = Math.max(1, start + 1); k <= (end < 0 ? acked.length - 1 : end); k++) {
    gap = Math.max(gap, acked[k].at - acked[k - 1].at);
  }
  return gap;
}

export async function killChaos(
  t: TestContext,
  opts: { rounds: number; seed?: number; log?: (line: string) => void },
): Promise<ChaosResult> {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rnd = seeded(seed);
  const log = opts.log ?? (() => {});
  const { c } = await testCluster(t, 'chaos', {
    probes: { timeScale: 0.5 },
    rbacFromManifests: true,
    env: { HANDOVER_TIMEOUT_MS: '8000', REDIS_STOP_TIMEOUT_MS: '8000' },
  });
  const labels = watchMasterLabels(c);
  t.after(labels.stop);
  await c.startAll();
  await c.settled('converged', 90_000);
  const service = new ServiceWriter(c);
  const sentinel = new SentinelWriter(c);
  t.after(() => Promise.all([service.stop(), sentinel.stop()]));
  service.start();
  sentinel.start();
  await waitFor('both clients writing', () => service.acked.length > 10 && sentinel.acked.length > 10, 30_000);

  const rounds: Round[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const victim = c.labelledMasters()[0];
    const i = ord(victim);
    const style = STYLES[Math.floor(rnd() * STYLES.length)];
    const killedAt = Date.now();
    if (style === 'container') {
      const killed = c.pod(i).redis;
      killed?.signal('SIGKILL');
      // Converged means after the kubelet has restarted it, not before anything noticed.
      await waitFor('the kubelet restarted the container', () => c.pod(i).redis !== killed, 60_000);
    } else if (style === 'pod') {
      await c.recreatePod(i, 'kill');
    } else {
      await c.killPod(i);
      await c.relabelledFrom(victim, 60_000);
      await c.startPod(i);
    }
    const newMaster = await c.settled('converged', 90_000);
    const convergedAt = Date.now();
    const convergedMs = convergedAt - killedAt;
    // Both clients write again (they may still be reconnecting when the set has converged).
    await waitFor(
      'both clients confirm writes again',
      () => nextAck(service.acked, killedAt) < Infinity && nextAck(sentinel.acked, killedAt) < Infinity,
      60_000,
    );
    const r: Round = {
      round,
      style,
      victim,
      newMaster,
      unavailableMs: {
        service: longestGap(service.acked, killedAt, convergedAt),
        sentinel: longestGap(sentinel.acked, killedAt, convergedAt),
      },
      convergedMs,
    };
    rounds.push(r);
    log(JSON.stringify(r));
  }
  await Promise.all([service.stop(), sentinel.stop()]);
  const master = await c.settled('converged', 90_000);
  const ip = c.pod(ord(master)).ip;
  const lostService = await missingKeys(
    ip,
    service.acked.map((a) => a.key),
  );
  const lostSentinel = await missingKeys(
    ip,
    sentinel.acked.map((a) => a.key),
  );
  return {
    seed,
    rounds,
    acknowledged: { service: service.acked.length, sentinel: sentinel.acked.length },
    lost: { service: lostService.length, sentinel: lostSentinel.length },
    doubleMasterLabels: labels.doubles.length,
    labelWritesChecked: labels.samples,
  };
}
