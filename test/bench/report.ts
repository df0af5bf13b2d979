// The figures of `npm run bench` as Markdown tables: printed by run.ts, and (`node test/bench/report.ts --readme`,
// which run.ts does after a full run) written into the README's Performance section between its bench markers,
// so that what the README shows is one run of one machine. A pure rendering of test/bench/results.json.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format } from 'prettier';
import type { FailoverResult } from './failover.ts';
import type { LoadingResult } from './loading-handover.ts';
import type { ScalingResult } from './scaling.ts';
import type { SentinelScaleResult } from './sentinel-scale.ts';
import type { SteadyResult } from './steady.ts';
import { ratio, round, show, spread } from './stats.ts';

export type Results = {
  machine: string;
  date?: string;
  quick: boolean;
  steady: SteadyResult[];
  failover: FailoverResult;
  scaling: ScalingResult[];
  /** Absent from the results of runs before the Sentinel group's bench existed. */
  sentinelScale?: SentinelScaleResult[];
  loading: LoadingResult[];
};

export const RESULTS = join(import.meta.dirname, 'results.json');
const README = join(import.meta.dirname, '../../README.md');
const BEGIN = '<!-- bench:begin (test/bench/report.ts writes this part) -->';
const END = '<!-- bench:end -->';

/** The tables, as Markdown lines. */
export function report(r: Results): string[] {
  const out: string[] = [];
  const row = (...cells: (string | number)[]) => out.push(`| ${cells.join(' | ')} |`);
  const { failover, steady, scaling, loading } = r;
  const sentinelScale = r.sentinelScale ?? [];
  out.push(`One run${r.date ? ` (${r.date})` : ''}${r.quick ? ', quick' : ''}: ${r.machine}; median (min–max).`, '');
  const per = (xs: number[]) => show(spread(xs));
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
      `redis ${per(s.rssMiB.redis)} MiB, sentinel ${per(s.rssMiB.sentinel)} MiB; private (RssAnon) ` +
        `${per(s.anonMiB.redis)} / ${per(s.anonMiB.sentinel)} MiB`,
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
      `${show(s.roleMs, ' ms')}, ${s.apiCalls} API calls; ` +
        `${round((s.roleMs.median / base.roleMs.median - 1) * 100)} % vs 3`,
      'growth ≤ 20 %',
    );
  }
  if (sentinelScale.length) {
    // A blank line after each caption: a table right after a paragraph line is prose to Markdown parsers.
    out.push('', 'One dedicated Sentinel group (3 pods) serving N sets of 2 pods (down-after 1000 ms):', '');
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
  }
  out.push(
    '',
    'Write outage when a master with a large dataset restarts before Sentinel notices (down-after 10 s):',
    '',
  );
  row(
    'mode',
    'dataset',
    'kill -> first acknowledged write',
    'longest gap',
    'acknowledged (before kill)',
    'master after',
  );
  row('---', '---', '---', '---', '---', '---');
  for (const r of loading) {
    row(r.mode, `${r.megabytes} MB`, `${r.outageMs} ms`, `${r.gapMs} ms`, `${r.acked} (${r.ackedBefore})`, r.master);
  }
  const [load, hand] = loading;
  out.push('', `Ratio of write outages (hand over / load): ${(hand.outageMs / load.outageMs).toFixed(2)}`);
  return out;
}

/** Replaces the README's bench block with these tables (formatted as the rest of the README). */
export async function writeReadme(r: Results): Promise<void> {
  if (r.quick) throw new Error('quick results (BENCH_QUICK=1) are not what the README shows: run npm run bench');
  const text = await readFile(README, 'utf8');
  const a = text.indexOf(BEGIN);
  const b = a < 0 ? -1 : text.indexOf(END, a);
  if (a < 0 || b < a) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  const block = await format(report(r).join('\n'), { parser: 'markdown', printWidth: 120, proseWrap: 'always' });
  // Written beside, then renamed over: an interrupted run leaves the README as it was.
  await writeFile(`${README}.tmp`, `${text.slice(0, a + BEGIN.length)}\n\n${block}\n${text.slice(b)}`);
  await rename(`${README}.tmp`, README);
}

if (import.meta.main) {
  const r = JSON.parse(await readFile(RESULTS, 'utf8')) as Results;
  if (process.argv.includes('--readme')) await writeReadme(r);
  else console.log(report(r).join('\n'));
}
