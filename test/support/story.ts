// What a failed failover test prints: the Sentinels' and launchers' lines that tell a failover's story (including
// the ones that say why none happened: TILT, no good replica, not elected), and every kubelet kill and restart.
import type { LocalCluster } from './cluster.ts';

const NOTABLE = new RegExp(
  ['switch-master', 'elected-leader', 'selected-slave', '[+-][so]down master', 'failover-(end|abort)', '[+-]tilt']
    .concat(['fenced', 'heal', 'follow', 'demot', 'promot', 'pre-seeded', 'relabel'])
    .join('|'),
);

export function failoverStory(c: LocalCluster, lines: string[]): string {
  const kubelet = [...c.kubelet.kills, ...c.kubelet.restarts].map((k) => `kubelet: ${JSON.stringify(k)}`);
  return [...lines.filter((l) => NOTABLE.test(l)), ...kubelet].slice(-150).join('\n');
}

/** `p`, whose failure carries the story of what happened so far. */
export async function telling<T>(c: LocalCluster, lines: string[], p: Promise<T>): Promise<T> {
  return p.catch((e: Error) => {
    throw new Error(`${e.message}; what happened:\n${failoverStory(c, lines)}`, { cause: e });
  });
}
