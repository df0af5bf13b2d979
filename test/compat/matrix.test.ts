// `npm run compat` (test/compat/run.ts) runs this file once per engine build, naming it in COMPAT_BUILD; each
// scenario (Sentinel mode, cluster mode, Sentinel mode with ACL users) appends what it measured, as one JSON line,
// to COMPAT_OUT, from which run.ts prints the table.
import { appendFileSync } from 'node:fs';
import { test } from 'node:test';
import { aclScenario } from '../support/acl-scenario.ts';
import { clusterScenario, sentinelScenario } from '../support/engine-scenarios.ts';
import { BUILDS } from '../support/engines.ts';

const b = BUILDS.find((x) => x.label === process.env.COMPAT_BUILD);
const out = process.env.COMPAT_OUT;
const skip = !b || !out ? 'run by npm run compat, which names COMPAT_BUILD and COMPAT_OUT' : false;
const record = (scenario: string, figures: object) =>
  appendFileSync(out!, JSON.stringify({ build: b!.label, scenario, ...figures }) + '\n');

test(`${b?.label}: Sentinel mode`, { skip }, async (t) => {
  record('sentinel', await sentinelScenario(t, b!, 'compat'));
});

test(`${b?.label}: cluster mode`, { skip }, async (t) => {
  record('cluster', await clusterScenario(t, b!, 'compat-cluster'));
});

test(`${b?.label}: Sentinel mode with ACL users`, { skip }, async (t) => {
  record('acl', await aclScenario(t, b!, 'compat-acl'));
});
