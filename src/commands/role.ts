// `launcher role`: what this pod would become and why. Reads only: no writes to the API, no files, no processes.
import type { Config } from '../config.ts';
import { decide } from '../decide.ts';
import type { Kube } from '../kube/api.ts';
import { addr } from '../model.ts';
import { observe } from '../observe.ts';

export async function role(c: Config, kube: Kube, json: boolean, out: (s: string) => void): Promise<number> {
  const o = await observe(c, kube);
  const d = decide(o);
  if (json) {
    out(JSON.stringify({ pod: c.podName, ...d, observed: o }, null, 2));
    return 0;
  }
  const lines = [`pod:    ${c.podName} (${c.podIp})`, `role:   ${d.role}`];
  if (d.role === 'replica') {
    lines.push(`master: ${d.masterPod ? `${d.masterPod} (${addr(d.master)})` : addr(d.master)}`);
  }
  if (d.role !== 'wait') lines.push(`rule:   ${d.rule}`);
  lines.push('why:', ...d.reasons.map((r) => `  - ${r}`));
  const label = o.pods.find((p) => p.name === c.podName)?.roleLabel;
  const actual = o.roles[`${c.podIp}:${c.redisPort}`];
  lines.push(
    `now:    label redis-role=${label ?? '(none)'}; Redis ` +
      `${actual?.answered ? `answers ROLE ${actual.role}` : 'does not answer'}`,
  );
  out(lines.join('\n'));
  return 0;
}
