// `npm run bench`: every figure of the performance issue side by side in one run, written to test/bench/results.json
// and printed as tables (report.ts), which a full run also writes into the README. Never part of npm test's
// pass/fail. BENCH_QUICK=1 runs fewer rounds.
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { imageNodeFlags } from '../support/image.ts';
import { benchFailover } from './failover.ts';
import { benchLoadingHandover } from './loading-handover.ts';
import { benchScaling } from './scaling.ts';
import { benchSentinelScale } from './sentinel-scale.ts';
import { benchSteady } from './steady.ts';
import { report, RESULTS, writeReadme, type Results } from './report.ts';

const quick = process.env.BENCH_QUICK === '1';
const redis = execSync('redis-server --version', { encoding: 'utf8' }).match(/v=(\S+)/)?.[1];
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${
  process.versions.node
}, Redis ${redis}`;
console.log(`machine: ${machine}`);

const TUNED = imageNodeFlags();
const steady = [
  await benchSteady('node (no flags)', [], quick ? 20 : 60),
  await benchSteady(`node ${TUNED.join(' ')} (the image)`, TUNED, quick ? 20 : 60),
];
const failover = await benchFailover(quick ? 2 : 5, quick ? 1 : 3, quick ? 3 : 7);
const scaling = await benchScaling([3, 100, 1000], quick ? 3 : 5);
const sentinelScale = await benchSentinelScale(quick ? [1, 10] : [1, 10, 50], quick ? 10 : 60);
const loading = await benchLoadingHandover(Number(process.env.BENCH_LOADING_MB ?? (quick ? 50 : 200)));

const results: Results = {
  machine,
  date: new Date().toISOString().slice(0, 10),
  quick,
  steady,
  failover,
  scaling,
  sentinelScale,
  loading,
};
await writeFile(RESULTS, JSON.stringify(results, null, 2) + '\n');
console.log(`\n${report(results).join('\n')}`);
// A full run is what the README shows; a quick one is not.
if (!quick) {
  await writeReadme(results);
  console.log('\nREADME.md: the Performance tables rewritten from this run');
}
process.exit(0);
