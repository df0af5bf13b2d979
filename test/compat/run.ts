// `npm run compat`: the core real-process scenarios (test/support/engine-scenarios.ts) on every engine build of the
// matrix (test/support/engines.ts), one build after another, then a table: engine, version, scenario, pass, and the
// failover and handover figures. Then the upgrade scenarios (test/compat/upgrade.test.ts). Exit 1 when anything
// failed or a build could not be had. COMPAT_BUILDS=<label>,<label> runs only those builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableLines } from '../../src/text-table.ts';
import { BUILDS, fetchBuild } from '../support/engines.ts';

const only = process.env.COMPAT_BUILDS?.split(',').map((s) => s.trim());
const builds = BUILDS.filter((b) => !only || only.includes(b.label));
const out = join(tmpdir(), `rhl-compat-${process.pid}.jsonl`);
const nodeTest = (files: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=600000', ...files], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  }).status === 0;

let ok = true;
const missing: string[] = [];
for (const b of builds) {
  if (!fetchBuild(b)) {
    missing.push(b.label);
    ok = false;
    continue;
  }
  console.log(`\n== ${b.label}, from ${b.source}`);
  ok = nodeTest(['test/compat/matrix.test.ts'], { COMPAT_BUILD: b.label, COMPAT_OUT: out }) && ok;
}
const upgrades = nodeTest(['test/compat/upgrade.test.ts'], {});
ok &&= upgrades;

type Row = { build: string; scenario: string; version?: string; failoverMs?: number; handoverMs?: number };
const rows: Row[] = existsSync(out)
  ? readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Row)
  : [];
rmSync(out, { force: true });
const s = (ms: number | undefined) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`);
const cells = builds.flatMap((b) =>
  ['sentinel', 'cluster', 'acl'].map((scenario) => {
    const r = rows.find((x) => x.build === b.label && x.scenario === scenario);
    const version = rows.find((x) => x.build === b.label && x.version)?.version ?? '';
    const pass = missing.includes(b.label) ? 'not run (cannot be had)' : r ? 'pass' : 'FAIL';
    return [b.label, version, scenario, pass, s(r?.failoverMs), s(r?.handoverMs)];
  }),
);
console.log('');
for (const l of tableLines(['BUILD', 'RUNS', 'SCENARIO', 'RESULT', 'FAILOVER', 'HANDOVER'], cells)) console.log(l);
console.log(`upgrades (test/compat/upgrade.test.ts): ${upgrades ? 'pass' : 'FAIL'}`);
console.log(
  'FAILOVER: a killed master to another pod labelled master (Sentinel mode), or to its replica serving the slots ' +
    '(cluster mode, 2 s node timeout); HANDOVER: SIGTERM to another pod labelled master; acl: Sentinel mode with ' +
    'least-privilege users, no command denied (ACL LOG empty).',
);
process.exit(ok ? 0 : 1);
