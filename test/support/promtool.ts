// The monitoring component's alert rules run through promtool (Prometheus' own rule checker and unit-test runner):
// `promtool check rules` on the PrometheusRule's groups, and `promtool test rules` on input series given as
// Prometheus text-format scrapes of the launcher's /metrics, with the target labels a PodMonitor adds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { PROMTOOL_CACHE } from './promtool-path.ts';

const RULE = resolve(import.meta.dirname, '../../manifests/components/monitoring/prometheus-rule.yaml');

export function promtool(): string {
  const onPath = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  if (onPath.status === 0) return onPath.stdout.trim();
  if (existsSync(PROMTOOL_CACHE)) return PROMTOOL_CACHE;
  throw new Error('promtool not found: run `node test/support/tools.ts` (npm test does) to fetch it');
}

type Rule = { alert?: string; expr: string };
/** The alert names of the PrometheusRule, in order. */
export async function alertNames(): Promise<string[]> {
  const doc = parse(await readFile(RULE, 'utf8')) as { spec: { groups: { rules: Rule[] }[] } };
  return doc.spec.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
}

/**
 * A scrape of one container: its /metrics text, the labels the PodMonitor gives its target, and when it was taken
 * (ms): given, every `*_timestamp_seconds` sample is moved from the wall clock to promtool's, where time starts at 0.
 */
export type Scrape = { text: string; target: Record<string, string>; takenAt?: number };

/** The launcher's own samples of a scrape (not the process metrics) as series names with the target labels. */
export function samples(s: Scrape, atSeconds = 0): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of s.text.split('\n')) {
    const m = /^(redis_ha_(?!launcher_)[a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const body = Object.entries({ ...labels, ...s.target })
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    let v = Number(m[3]);
    if (s.takenAt !== undefined && m[1].endsWith('_timestamp_seconds')) v = v - s.takenAt / 1000 + atSeconds;
    out.set(`${m[1]}{${body}}`, v);
  }
  return out;
}

/**
 * Series over time for promtool: each scrape in `timeline` holds from its minute on (a scrape at minute 0 first),
 * one sample a minute up to `minutes`.
 */
export function inputSeries(timeline: { at: number; scrapes: Scrape[] }[], minutes: number) {
  const states = timeline.map((t) => ({
    at: t.at,
    values: new Map(t.scrapes.flatMap((s) => [...samples(s, t.at * 60)])),
  }));
  const names = new Set(states.flatMap((s) => [...s.values.keys()]));
  return [...names].map((series) => {
    const values: string[] = [];
    for (let min = 0; min <= minutes; min++) {
      const state = states.filter((s) => s.at <= min).pop();
      const v = state?.values.get(series);
      values.push(v === undefined ? '_' : String(v));
    }
    return { series, values: values.join(' ') };
  });
}

export type AlertCase = {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
};

export type RuleTest = { input_series: { series: string; values: string }[]; alert_rule_test: AlertCase[] };

/** promtool check rules, then promtool test rules with these tests; ok and promtool's output. */
export async function testRules(tests: RuleTest[]): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rhl-promtool-'));
  try {
    const doc = parse(await readFile(RULE, 'utf8')) as { spec: unknown };
    await writeFile(join(dir, 'rules.yaml'), stringify(doc.spec));
    const check = spawnSync(promtool(), ['check', 'rules', 'rules.yaml'], { cwd: dir, encoding: 'utf8' });
    if (check.status !== 0) return { ok: false, output: check.stdout + check.stderr };
    const file = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: tests.map((t) => ({ interval: '1m', ...t })),
    };
    await writeFile(join(dir, 'test.yaml'), stringify(file));
    const r = spawnSync(promtool(), ['test', 'rules', 'test.yaml'], { cwd: dir, encoding: 'utf8' });
    return { ok: r.status === 0, output: r.stdout + r.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
