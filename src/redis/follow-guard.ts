// The guard between engines, applied: before this pod's Redis (or, for the cluster commands, another pod's) is
// pointed at a master, both engines are asked (INFO server; a server not started yet by its --version) and the rule
// of engines.ts decides. Kept apart from engine.ts, which the CLI loads at every start (no client there).
import { execa } from 'execa';
import type { Config } from '../config/types.ts';
import { engineText, followProblem, type Engine } from '../engines.ts';
import type { Kube } from '../kube/api.ts';
import { emitEvent } from '../kube/events.ts';
import { addr, isLive, type Address, type PodView } from '../model.ts';
import { log } from '../runtime/log.ts';
import { localRedis, probeOptions, withRedis } from './client.ts';
import { engineOf, engineOfVersion } from './engine.ts';
import { parseInfo } from './replies.ts';

/** The engine at `a` (INFO server); undefined when it does not answer. */
export async function engineAt(c: Config, a: Address): Promise<Engine | undefined> {
  return withRedis(a, probeOptions(c), (r) => r.call('INFO', 'server'))
    .then((x) => engineOf(parseInfo(String(x))))
    .catch(() => undefined);
}

/**
 * The pods with the engine each runs: what it published (annotation redis-ha-launcher/engine), else, when it is
 * live, what its Redis answers (INFO server: a pod started by an earlier launcher published nothing).
 */
export async function withEngines(c: Config, pods: PodView[]): Promise<PodView[]> {
  return Promise.all(
    pods.map(async (p) => {
      if (p.engine || !isLive(p)) return p;
      const engine = engineText(await engineAt(c, { host: p.ip, port: c.redisPort }));
      return engine ? { ...p, engine } : p;
    }),
  );
}

/** This pod's engine: its running server's INFO, else (not started yet) what its program says of itself. */
export async function localEngine(c: Config): Promise<Engine | undefined> {
  const running = await engineAt(c, localRedis(c));
  if (running) return running;
  const r = await execa(c.redisServerBin, ['--version'], { reject: false, stdin: 'ignore' });
  return engineOfVersion(String(r.stdout));
}

/**
 * Why this pod's Redis (or the one at `replica`) must not replicate `master` (rules in engines.ts: it could not load
 * the master's RDB), or undefined, also when either engine cannot be told (nothing is refused on a guess). `known`:
 * the replica's engine when the caller has it already (the boot asked the server's --version once).
 */
export async function followGuard(
  c: Config,
  master: Address,
  replica?: Address,
  known?: Engine,
): Promise<string | undefined> {
  const own = () => (replica ? engineAt(c, replica) : localEngine(c));
  const [mine, theirs] = await Promise.all([known ?? own(), engineAt(c, master)]);
  return mine && theirs ? followProblem(mine, theirs) : undefined;
}

/** The refusal last told (logged and in an Event): a loop that meets the same one every cycle tells it once. */
let lastRefusal = '';

/**
 * The one check before this pod's Redis is pointed at a master (at boot, by the supervisor, by the cluster's
 * REPLICATE): false, with one log line and an IncompatibleMaster Warning Event, when it could not load that
 * master's RDB; its data is then left alone. `mine`: this pod's engine, when already known.
 */
export async function mayFollow(c: Config, kube: Kube, master: Address, mine?: Engine): Promise<boolean> {
  const problem = await followGuard(c, master, undefined, mine);
  if (!problem) {
    lastRefusal = '';
    return true;
  }
  const line = `refusing to replicate ${addr(master)}: ${problem}`;
  if (line !== lastRefusal) {
    lastRefusal = line;
    log.warn(line);
    await emitEvent(kube, { name: c.podName }, 'Warning', 'IncompatibleMaster', line);
  }
  return false;
}
