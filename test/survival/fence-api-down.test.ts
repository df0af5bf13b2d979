// The fence when the master loses its peers *and* the API (a node's network outage): every other pod frozen (their
// Redis, Sentinels and launchers answer nothing) and every new API request failing after 10 s, held for 60 s,
// longer than client-node keeps a quiet watch (30 s). A client that keeps its connection to the master and writes
// without WAIT must see no write acknowledged from shortly after the fence until the end: an applied fence never
// lapses because the API cannot be reached.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptLog, testCluster } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { PinnedWriter } from '../support/writer.ts';

const ord = (name: string) => Number(name.split('-').pop());
const HELD_MS = 60_000;

test('master cut from its peers and the API for 60 s: fenced throughout, no write acknowledged', async (t) => {
  const { lines: logged, log } = keptLog();
  const { c, api } = await testCluster(t, 'fence-api-down', { log });
  await c.startAll();
  const master = await c.converged('boot', 40_000);
  const m = ord(master);
  const pinned = new PinnedWriter(c.pod(m).ip);
  pinned.start();
  t.after(() => pinned.stop());
  await waitFor('writes acknowledged before the cut', () => pinned.ok.length >= 20, 20_000);

  const others = c.ordinals.filter((i) => i !== m).map((i) => c.pod(i));
  // Open watches go quiet; every new request fails after 10 s, as a connect to an unreachable address does.
  const unanswered = api.faults.add({ status: 503, delayMs: 10_000, delayWhen: 'request' });
  const frozen = others.flatMap((p) => [p.redis, p.sentinel]).filter((s) => s !== undefined);
  const thaw = () => {
    for (const s of frozen) s.signal('SIGCONT');
    unanswered.remove();
  };
  t.after(thaw);
  for (const s of frozen) s.signal('SIGSTOP');
  const cut = Date.now();

  await waitFor('the master fenced', () => logged.some((l) => l.includes(`${master}`) && /fenced: /.test(l)), 30_000);
  const fencedAt = Date.now();
  // A write in flight when the pause began may still be answered: allow a second.
  const from = fencedAt + 1000;
  await waitFor('the end of the outage', () => (Date.now() - cut >= HELD_MS ? true : undefined), HELD_MS + 5000);
  const taken = pinned.ok.filter((w) => w.at > from);
  thaw();
  assert.equal(
    taken.length,
    0,
    `the fenced master acknowledged ${taken.length} writes, the first ${taken[0] ? taken[0].at - cut : 0} ms after ` +
      `the cut (fenced at ${fencedAt - cut} ms)`,
  );
  t.diagnostic(`fenced ${fencedAt - cut} ms after the cut; no write acknowledged for ${HELD_MS / 1000} s`);
});
