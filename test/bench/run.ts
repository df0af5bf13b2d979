// `npm run bench`: every figure of the performance issue side by side in one run, printed as a table and written
// to test/bench/results.json. Never part of npm test's pass/fail. BENCH_QUICK=1 runs fewer rounds.
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageNodeFlags } from '../support/image.ts';
import { benchFailover } from './failover.ts';
import { benchLoadingHandover } from './loading-handover.ts';
import { benchScaling } from './scaling.ts';
import { benchSentinelScale } from './sentinel-scale.ts';
import { benchSteady } from './steady.ts';
import { ratio, round, show, spread } from './stats.ts';

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
const sentinelScale = await benchSentinelScale(quick ? [1, 10] : [1, 10, 50], quick ? 10 : 30);
const loading = await benchLoadingHandover(Number(process.env.BENCH_LOADING_MB ?? (quick ? 50 : 200)));

const row = (...cells: (string | number)[]) => console.log(`| ${cells.join(' | ')} |`);
const per = (xs: number[]) => show(spread(xs));
console.log('\nfigures: median (min–max) of the runs, side by side in this one run\n');
row('figure', 'measured', 'target');
row('---', '---', '---');
row(
  'labels flipped after the Sentinels switched (API write)',
  `${show(failover.flipAfterMajorityMs, ' ms')}, ${failover.twoMasterMoments} moments with two master labels`,
  '≤ 50 ms, 0',
);
row(
  `kill → first write through the master label (down-after 1000, ${failover.killToFirstWriteMs.n} kills)`,
  `${show(failover.killToFirstWriteMs, ' ms')}; rounds losing acknowledged writes: ${failover.lostAcknowledged}`,
  '≤ 2500 ms',
);
row(
  'longest write gap, master pod deleted gracefully (Service-style writer)',
  show(failover.plannedHandoverGapMs, ' ms'),
  '≤ 1000 ms',
);
const c = failover.cold;
const node0 = c['node -e 0'];
for (const [name, s] of Object.entries(c)) {
  const vs = name === 'node -e 0' ? '' : `, ${ratio(s, node0)}× node -e 0`;
  const vsKubectl = name.startsWith('launcher-promote')
    ? `, ${ratio(s, c['kubectl-based promote script'])}× the kubectl script`
    : '';
  const target = name.startsWith('launcher-promote')
    ? '≤ 3× node -e 0, ≤ 0.3× kubectl'
    : name.startsWith('launcher role')
      ? '≤ 4× node -e 0'
      : name.startsWith('launcher promote')
        ? '≤ 3× node -e 0'
        : '';
  row(`cold ${name}`, `${show(s, ' ms')}${vs}${vsKubectl}; ${failover.coldRssMiB[name].median} MiB peak RSS`, target);
}
for (const s of steady) {
  row(
    `RSS per supervising process, ${s.variant}, after ${s.windowS} s`,
    `redis ${per(s.rssMiB.redis)} MiB, sentinel ${per(s.rssMiB.sentinel)} MiB`,
    '≤ 60 MiB',
  );
  row(
    `idle CPU per supervising process, ${s.variant}`,
    `redis ${per(s.cpuPct.redis)} %, sentinel ${per(s.cpuPct.sentinel)} %`,
    '≤ 0.5 %',
  );
  row(
    `steady API requests per pod per minute, ${s.variant}`,
    `${s.requestsPerPodMin} (watch requests in the window: ${s.watchesOpened})`,
    '≤ 1',
  );
}
const base = scaling[0];
for (const s of scaling) {
  row(
    `launcher role with ${s.otherPods} other pods in the namespace`,
    `${show(s.roleMs, ' ms')}, ${s.apiCalls} API calls; ${round((s.roleMs.median / base.roleMs.median - 1) * 100)} % ` +
      `vs 3`,
    'growth ≤ 20 %',
  );
}
console.log('\none dedicated Sentinel group (3 pods) serving N sets of 2 pods (down-after 1000 ms)');
row(
  'sets',
  'supervisor RSS / CPU',
  'redis-sentinel RSS / CPU',
  'API req/min',
  'one set killed: kill → label',
  'every other set killed at once: kill → label',
  'label after switch',
);
row('---', '---', '---', '---', '---', '---', '---');
for (const r of sentinelScale) {
  const all = r.allSets;
  row(
    r.sets,
    `${per(r.supervisorRssMiB)} MiB / ${per(r.supervisorCpuPct)} %`,
    `${per(r.sentinelRssMiB)} MiB / ${per(r.sentinelCpuPct)} %`,
    r.requestsPerMin,
    `${r.oneSet.killToLabelMs} ms`,
    all ? `${show(all.killToLabelMs, ' ms')}, last ${all.lastLabelledMs} ms (${all.sets} sets)` : '—',
    `${r.oneSet.switchToLabelMs} ms${all ? `; ${show(all.switchToLabelMs, ' ms')}` : ''}; ` +
      `two-master moments ${r.twoMasterMoments}`,
  );
}
console.log('\nwrite outage when a master with a large dataset restarts before Sentinel notices (down-after 10 s)');
row('mode', 'dataset', 'kill -> first acknowledged write', 'longest gap', 'acknowledged (before kill)', 'master after');
row('---', '---', '---', '---', '---', '---');
for (const r of loading) {
  row(r.mode, `${r.megabytes} MB`, `${r.outageMs} ms`, `${r.gapMs} ms`, `${r.acked} (${r.ackedBefore})`, r.master);
}
const [load, hand] = loading;
console.log(`ratio of write outages (hand over / load): ${(hand.outageMs / load.outageMs).toFixed(2)}`);
await writeFile(
  join(import.meta.dirname, 'results.json'),
  JSON.stringify({ machine, quick, steady, failover, scaling, sentinelScale, loading }, null, 2) + '\n',
);
process.exit(0);
