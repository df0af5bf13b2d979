// `launcher promote <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>`: Sentinel's
// client-reconfig-script. Runs on every Sentinel at almost the same moment, so it is idempotent and race-safe:
// it trusts the Sentinels and ROLE, not its arguments; removes `master` from every other pod before labelling
// the new one; writes with resourceVersion preconditions. Exit 0 done, 1 retry (transient), 2 give up.
import { NO_SET_SELECTOR } from '../config/names.ts';
import type { Config } from '../config/types.ts';
import { apiFailure, type Kube } from '../kube/api.ts';
import { currentSets } from '../sentinel/sets.ts';
import { setConfig } from '../sentinel/rules/sets.ts';
import { log } from '../runtime/log.ts';
import { addr } from '../model.ts';
import { EXIT_GIVE_UP, EXIT_RETRY, PromoteError, type PromoteArgs } from '../sentinel/promote/args.ts';
import { relabelTo } from '../sentinel/promote/relabel.ts';

export { EXIT_DONE, EXIT_GIVE_UP, EXIT_RETRY, parsePromoteArgs, PromoteError } from '../sentinel/promote/args.ts';
export { podFor } from '../sentinel/promote/relabel.ts';

export async function promote(given: Config, kube: Kube, a: PromoteArgs): Promise<number> {
  const started = Date.now();
  let c = given;
  if (c.podSelector === NO_SET_SELECTOR) {
    // A dedicated Sentinel's own settings: the master name picks the set (its pods, its Lease) among the
    // StatefulSets it watches, whatever the name (never the Sentinel's own settings, whose selector is no set's).
    const { sets } = await currentSets(c, kube).catch((e: unknown) => {
      throw new PromoteError(EXIT_RETRY, `cannot list the Redis StatefulSets: ${apiFailure(e).message}`);
    });
    const s = sets.find((x) => x.masterSet === a.masterSet);
    if (!s) {
      throw new PromoteError(
        EXIT_GIVE_UP,
        `unknown master set ${JSON.stringify(a.masterSet)}: no StatefulSet selected by SENTINEL_WATCH_SELECTOR ` +
          `(${c.watchSelector}) has it; watched: ${sets.map((x) => x.masterSet).join(', ') || 'none'}`,
      );
    }
    c = setConfig(c, s);
  }
  if (a.masterSet !== c.masterSet) {
    throw new PromoteError(
      EXIT_GIVE_UP,
      `unknown master set ${JSON.stringify(a.masterSet)}: this launcher manages ${JSON.stringify(c.masterSet)} ` +
        `(REDIS_MASTER_SET)`,
    );
  }
  log.info(`promote (${a.role}, ${a.state}): ${addr(a.from)} -> ${addr(a.to)}`);
  return relabelTo(c, kube, a.from, a.to, 15_000, started);
}
