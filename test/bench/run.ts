// `npm run bench`: figures side by side in one run, printed as a table and written to test/bench/results.json.
// Never part of npm test's pass/fail. The performance issue's other targets are not measured here yet.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchLoadingHandover } from './loading-handover.ts';

const loading = await benchLoadingHandover(Number(process.env.BENCH_LOADING_MB ?? 200));
console.log('\nwrite outage when a master with a large dataset restarts before Sentinel notices (down-after 10 s)');
console.log(
  '| mode | dataset | kill -> first acknowledged write | longest gap | acknowledged (before kill) | master after |',
);
console.log('|---|---|---|---|---|---|');
for (const r of loading) {
  const acked = `${r.acked} (${r.ackedBefore})`;
  console.log(`| ${r.mode} | ${r.megabytes} MB | ${r.outageMs} ms | ${r.gapMs} ms | ${acked} | ${r.master} |`);
}
const [load, hand] = loading;
console.log(`ratio of write outages (hand over / load): ${(hand.outageMs / load.outageMs).toFixed(2)}`);
await writeFile(
  join(import.meta.dirname, 'results.json'),
  JSON.stringify({ machine: `${process.platform} ${process.arch}`, loading }, null, 2) + '\n',
);
process.exit(0);
