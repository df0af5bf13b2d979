// `launcher role`: what this pod would become and why. Reads only: no writes to the API, no files, no processes.
import type { Config } from '../config/types.ts';
import { decide } from '../sentinel/rules/boot.ts';
import type { Kube } from '../kube/api.ts';
import { addr } from '../model.ts';
import { clusterAction } from '../cluster/rules/decide.ts';
import { inCluster, slotText } from '../cluster/rules/nodes.ts';
import { observeCluster } from '../cluster/observe.ts';
import { currentSets } from '../sentinel/sets.ts';
import { observe } from '../sentinel/observe.ts';
import {
  forSentinel,
  localRedis,
  localSentinel,
  probeOptions,
  sentinelMasterAddr,
  withRedis,
} from '../redis/client.ts';
import { engineOf } from '../redis/engine.ts';
import { parseInfo } from '../redis/replies.ts';
import { lookForMaster } from '../sentinel/sentinel-container/watched-sets.ts';
import { setConfig } from '../sentinel/rules/sets.ts';

export async function role(c: Config, kube: Kube, json: boolean, out: (s: string) => void): Promise<number> {
  if (c.sentinelMode) return sentinelRole(c, kube, json, out);
  if (c.cluster) return clusterRole(c, c.cluster, kube, json, out);
  const o = await observe(c, kube);
  const d = decide(o);
  if (json) {
    out(JSON.stringify({ pod: c.podName, ...d, observed: o }, null, 2));
    return 0;
  }
  const lines = [`pod:    ${c.podName} (${c.podHost})`, `engine: ${await engineLine(c)}`, `role:   ${d.role}`];
  if (d.role === 'replica') {
    lines.push(`master: ${d.masterPod ? `${d.masterPod} (${addr(d.master)})` : addr(d.master)}`);
  }
  if (d.role !== 'wait') lines.push(`rule:   ${d.rule}`);
  lines.push('why:', ...d.reasons.map((r) => `  - ${r}`));
  const label = o.pods.find((p) => p.name === c.podName)?.roleLabel;
  const actual = o.roles[`${c.podHost}:${c.redisPort}`];
  lines.push(
    `now:    label redis-role=${label ?? '(none)'}; Redis ` +
      `${actual?.answered ? `answers ROLE ${actual.role}` : 'does not answer'}`,
  );
  out(lines.join('\n'));
  return 0;
}

/** In a Sentinel pod: every set it watches, the master it would monitor and why, and what it monitors now. */
async function sentinelRole(c: Config, kube: Kube, json: boolean, out: (s: string) => void): Promise<number> {
  const { sets, problems } = await currentSets(c, kube);
  const each = await Promise.all(
    sets.map(async (s) => {
      const sc = c.watchSelector ? setConfig(c, s) : c;
      const look = await lookForMaster(sc, kube, { settle: false });
      const now = await sentinelMasterAddr(localSentinel(c), s.masterSet, forSentinel(probeOptions(c)));
      return { set: s, wouldMonitor: look.monitor?.master, reasons: look.reasons, monitors: now };
    }),
  );
  if (json) {
    out(
      JSON.stringify({ pod: c.podName, sentinel: true, watchSelector: c.watchSelector, sets: each, problems }, null, 2),
    );
    return 0;
  }
  const lines = [
    `pod:    ${c.podName} (${c.podHost}), ` +
      (c.watchSelector ? `a dedicated Sentinel watching StatefulSets ${c.watchSelector}` : 'a Sentinel sidecar'),
  ];
  if (!each.length) lines.push('sets:   none');
  for (const e of each) {
    const s = e.set;
    const from = s.statefulSet ? `StatefulSet ${s.statefulSet}, ` : '';
    lines.push(
      `set ${s.masterSet} (${from}pods ${s.podSelector}, record ${s.masterRecord}, quorum ${s.quorum}):`,
      `  would monitor: ${e.wouldMonitor ? addr(e.wouldMonitor) : 'nothing yet'}`,
      ...e.reasons.map((r) => `    - ${r}`),
      `  now: ${e.monitors ? `this Sentinel monitors it at ${addr(e.monitors)}` : 'this Sentinel does not monitor it'}`,
    );
  }
  for (const p of problems) lines.push(`not monitored: ${p}`);
  out(lines.join('\n'));
  return 0;
}

/** In cluster mode: this node's ID, slots, state and master, and what its supervisor would do and why. */
async function clusterRole(
  c: Config,
  cl: NonNullable<Config['cluster']>,
  kube: Kube,
  json: boolean,
  out: (s: string) => void,
): Promise<number> {
  const v = await observeCluster(c, cl, kube);
  const a = clusterAction(v);
  const me = v.local?.nodes.find((n) => n.flags.includes('myself'));
  if (json) {
    out(JSON.stringify({ pod: c.podName, cluster: true, node: me, info: v.local?.info, action: a }, null, 2));
    return 0;
  }
  const master = me?.masterId ? v.local?.nodes.find((n) => n.id === me.masterId) : undefined;
  const role = !v.local ? 'Redis does not answer' : !inCluster(v.local) ? 'not in a cluster' : me?.flags.join(',');
  out(
    [
      `pod:     ${c.podName} (${c.podHost}), cluster mode (${cl.masters} masters x ${1 + cl.replicasPerMaster})`,
      `engine:  ${await engineLine(c)}`,
      `node:    ${me?.id ?? '-'}`,
      `role:    ${role}`,
      `slots:   ${me ? slotText(me) || 'none' : '-'}`,
      ...(master ? [`follows: ${master.id} (${master.host}:${master.port})`] : []),
      `state:   cluster_state:${v.local?.info.cluster_state ?? '-'}, ` +
        `${v.local?.info.cluster_known_nodes ?? '-'} nodes known`,
      `would:   ${a.kind}: ${a.reason}`,
    ].join('\n'),
  );
  return 0;
}

/** The server this pod runs and why that one, and what its Redis says it is (INFO server), e.g. `valkey 8.0.1`. */
async function engineLine(c: Config): Promise<string> {
  const running = await withRedis(localRedis(c), probeOptions(c), (r) => r.call('INFO', 'server'))
    .then((i) => engineOf(parseInfo(String(i))))
    .catch(() => undefined);
  const now = running ? `runs ${running.family} ${running.version}` : 'not answering';
  return `${c.redisServerBin} (${c.engineWhy}); ${now}`;
}
