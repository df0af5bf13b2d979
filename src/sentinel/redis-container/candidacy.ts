// Whether this replica may be a failover candidate as far as engines go (engines.ts: candidacyProblem), judged from
// the engines the set's pods published (annotation redis-ha-launcher/engine): at boot, for the replica-priority
// Redis starts with, and on every full cycle of the supervisor, which sets it.
import type { Config } from '../../config/types.ts';
import { candidacyProblem, type Engine } from '../../engines.ts';
import type { Kube } from '../../kube/api.ts';
import { currentPods } from '../../kube/pods.ts';
import { isLive } from '../../model.ts';

/** Why this pod must be no failover candidate, or undefined; throws when the pods cannot be read. */
export async function engineHold(c: Config, kube: Kube, mine: Engine | undefined): Promise<string | undefined> {
  if (!mine) return undefined;
  const pods = await currentPods(kube, c.podSelector);
  const others = pods.filter((p) => isLive(p) && p.name !== c.podName && p.roleLabel !== 'master');
  return candidacyProblem(
    mine,
    others.map((p) => ({ pod: p.name, engine: p.engine })),
  );
}
