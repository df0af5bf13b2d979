// Whether this replica may be a failover candidate as far as engines go (engines.ts: candidacyProblem), judged at
// boot (the replica-priority Redis starts with) and on every full cycle of the supervisor, which sets it.
// Each other pod of the set counts, live or not, but the master Sentinel names (a failover replaces it). Its
// engine: what it published (annotation redis-ha-launcher/engine), else what its Redis answers (INFO server: a pod
// started by an earlier launcher publishes nothing), else what it last ran as a replica (a replica restarting, or
// recreated and not started yet, still counts by its old engine until it runs the new one). The master's new
// incarnation, once replaced, counts only once it runs: it was never known as a replica.
import type { Config } from '../../config/types.ts';
import { candidacyProblem, type Engine } from '../../engines.ts';
import type { Kube } from '../../kube/api.ts';
import { currentPods } from '../../kube/pods.ts';
import { podHasHost, type Address, type PodView } from '../../model.ts';
import { withEngines } from '../../redis/follow-guard.ts';

/** The engine each pod of the set was last known to run, by pod name. */
const lastKnown = new Map<string, string>();

/**
 * Why this pod must be no failover candidate, or undefined. `master`: the master Sentinel names, if any. Throws
 * when the pods cannot be read.
 */
export async function engineHold(
  c: Config,
  kube: Kube,
  mine: Engine | undefined,
  master?: Address,
): Promise<string | undefined> {
  if (!mine) return undefined;
  const pods = await currentPods(kube, c.podSelector);
  const isMaster = (p: PodView) => Boolean(master && podHasHost(p, master.host) && master.port === c.redisPort);
  const others = pods.filter((p) => p.name !== c.podName && !isMaster(p));
  const engines = (await withEngines(c, others)).map((p) => {
    const engine = p.engine ?? lastKnown.get(p.name);
    if (engine) lastKnown.set(p.name, engine);
    return { pod: p.name, engine };
  });
  return candidacyProblem(mine, engines);
}
