// PeriodicLoop's stuck detection, which /healthz uses: only a started loop whose cycle stopped running is stuck.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeriodicLoop } from '../../src/runtime/loop.ts';
import { waitFor } from '../support/wait.ts';

class Probe extends PeriodicLoop {
  cycles = 0;
  hang = false;
  protected async cycleOnce() {
    this.cycles++;
    if (this.hang) await new Promise(() => {});
  }
}

test('a loop not started yet (Redis loading, first labels pending) is not stuck, however old it is', async () => {
  const l = new Probe();
  const made = Date.now();
  await waitFor('time passes', () => Date.now() > made + 20, 1000, 5);
  assert.equal(l.stuckFor(10), undefined);
});

test('a started loop whose cycle hangs becomes stuck; a healthy one does not', async (t) => {
  const ok = new Probe();
  ok.start(5);
  t.after(() => ok.stop());
  await waitFor('healthy loop cycles', () => ok.cycles >= 3, 2000, 5);
  assert.equal(ok.stuckFor(1000), undefined);

  const bad = new Probe();
  bad.hang = true;
  bad.start(5);
  t.after(() => bad.stop());
  const stuck = await waitFor('hanging loop reported stuck', () => bad.stuckFor(50), 2000, 5);
  assert.ok(stuck > 50);
  bad.stop();
  assert.equal(bad.stuckFor(50), undefined, 'a stopped loop (shutting down) is not reported stuck');
});
