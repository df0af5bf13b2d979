// Kill chaos (test/support/chaos.ts): the master killed again and again under continuous WAIT-confirmed writes,
// with the kubelet's probes. 3 rounds here; `npm run chaos` runs 20 (CHAOS_ROUNDS, CHAOS_SEED to repeat one).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { killChaos } from '../support/chaos.ts';

const rounds = Number(process.env.CHAOS_ROUNDS ?? 3);
const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;

test(
  `kill chaos, ${rounds} rounds: no confirmed write lost, never two master labels, every round converges`,
  {
    timeout: 120_000 + rounds * 90_000,
  },
  async (t) => {
    const r = await killChaos(t, { rounds, seed, log: (l) => t.diagnostic(l) });
    t.diagnostic(JSON.stringify({ ...r, rounds: undefined }));
    if (process.env.CHAOS_OUT) writeFileSync(process.env.CHAOS_OUT, `${JSON.stringify(r, null, 2)}\n`);
    assert.equal(r.rounds.length, rounds);
    assert.deepEqual(r.lost, { service: 0, sentinel: 0 }, `seed ${r.seed}`);
    assert.equal(r.doubleMasterLabels, 0, `seed ${r.seed}: two pods labelled master at some API write`);
    assert.ok(r.acknowledged.service > 0 && r.acknowledged.sentinel > 0);
  },
);
