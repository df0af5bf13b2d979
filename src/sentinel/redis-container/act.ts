// The Redis container's actions, each one of reconcile()'s answers (rules/reconcile.ts) carried out: repair the
// master of record or the role label (through make-master.ts), point a replica at the master, heal a stale master
// the way Sentinel reconfigures an instance. Each is counted, logged and told in an Event.
import type { Config } from '../../config/types.ts';
import type { Kube } from '../../kube/api.ts';
import { emitEvent } from '../../kube/events.ts';
import { setRoleLabel } from '../../kube/pods.ts';
import { addr } from '../../model.ts';
import { localRedis, probeOptions, withRedis } from '../../redis/client.ts';
import { mayFollow } from '../../redis/follow-guard.ts';
import { log } from '../../runtime/log.ts';
import type { RedisMetrics } from '../../runtime/metrics.ts';
import { makeThisPodMaster } from '../make-master.ts';
import type { Action } from '../rules/reconcile.ts';

export async function act(a: Action, c: Config, kube: Kube, metrics: RedisMetrics): Promise<void> {
  const local = localRedis(c);
  if (a.kind === 'none') return;
  if (a.kind === 'follow' && !(await mayFollow(c, kube, a.master))) return;
  metrics.actions.inc({ action: a.kind === 'label' ? `label-${a.value}` : a.kind });
  if (a.kind === 'record') {
    // Through the one home of "this pod is the master" (labels already true are not rewritten).
    const r = await makeThisPodMaster(c, kube);
    if (r.refused) return log.info(`not repairing the master of record after all: ${r.refused}`);
    log.info(`master of record repaired: it names ${c.podName} again`);
  } else if (a.kind === 'label' && a.value === 'slave') {
    await setRoleLabel(kube, c.podName, 'slave');
  } else if (a.kind === 'label') {
    const r = await makeThisPodMaster(c, kube);
    if (r.refused) return log.info(`not labelling this pod master after all: ${r.refused}`);
    await emitEvent(
      kube,
      { name: c.podName },
      'Normal',
      'LabelCorrected',
      `${a.reason}; labelled master${r.demoted.length ? `, removed master from ${r.demoted.join(', ')}` : ''}`,
    );
  } else if (a.kind === 'follow') {
    await withRedis(local, probeOptions(c), async (r) => {
      await r.call('REPLICAOF', a.master.host, String(a.master.port));
      await r.call('CONFIG', 'REWRITE').catch((e: Error) => log.warn(`CONFIG REWRITE failed: ${e.message}`));
    });
    log.warn(`${a.reason}; pointed at ${addr(a.master)}`);
    await emitEvent(
      kube,
      { name: c.podName },
      'Normal',
      'ReplicaRepointed',
      `${a.reason}; now a replica of ${addr(a.master)}`,
    );
  } else {
    // No engine guard here: a stale master's data is discarded whatever happens (Sentinel would send the same
    // REPLICAOF), and refusing would leave two masters.
    await withRedis(local, probeOptions(c), async (r) => {
      await r.call('REPLICAOF', a.master.host, String(a.master.port));
      await r.call('CONFIG', 'REWRITE').catch((e: Error) => log.warn(`CONFIG REWRITE failed: ${e.message}`));
      // As Sentinel does when it reconfigures an instance: drop its clients (not this connection: SKIPME yes), so
      // that those behind the master Service reconnect to the real master instead of getting READONLY for ever.
      for (const type of ['normal', 'pubsub']) {
        await r.call('CLIENT', 'KILL', 'TYPE', type).catch((e: Error) => log.warn(`CLIENT KILL failed: ${e.message}`));
      }
    });
    metrics.heals.inc();
    await setRoleLabel(kube, c.podName, 'slave');
    log.warn(`split brain healed: ${a.reason}; now a replica of ${addr(a.master)}`);
    await emitEvent(
      kube,
      { name: c.podName },
      'Warning',
      'SplitBrainHealed',
      `${a.reason}; made it a replica of ${addr(a.master)}`,
    );
  }
}
