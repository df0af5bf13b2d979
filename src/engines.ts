// Which data an engine can read: the RDB format version each Redis and Valkey release writes and the versions it
// loads, so that no replica is pointed at a master whose RDB it cannot load (a replica empties its data before it
// finds out, and then stays empty). No server reports its RDB version (no INFO field): it follows from the release,
// as INFO server names it (redis/engine.ts: engineOf). From rdb.h / rdb.c of each release: Redis 6.x writes 9,
// 7.0 10, 7.2 11, 7.4 to 8.4 12, 8.6 13; Redis loads every version up to its own, with the REDIS header only.
// Valkey 7.2 to 8.1 write 11, 9.0 and 9.1 80 (header VALKEY080), 9.2 81; Valkey loads up to 11 and its own range
// (80 and up, to its own), never Redis's 12 to 79 (rdb-version-check strict, the default).

export type Family = 'valkey' | 'redis';

/** The engines and versions `npm run compat` runs the core scenarios on (test/support/engines.ts), for --help. */
export const TESTED_ENGINES =
  'Redis 7.0 to 8.0 and Valkey 8.0 to 9.1 (redis-server or valkey-server: REDIS_SERVER_BIN, else found on PATH)';
export type Engine = { family: Family; version: string };

/** `valkey 8.0.1`: how status and role name a running engine. */
export const engineText = (e: Engine | undefined) => (e ? `${e.family} ${e.version}` : undefined);

const majorMinor = (version: string): [number, number] => {
  const [a, b] = version.split('.').map((x) => Number.parseInt(x, 10));
  return [Number.isFinite(a) ? a : 0, Number.isFinite(b) ? b : 0];
};

/** The RDB version a release writes; undefined for one older than Redis 6 (not judged). Newer ones: the newest. */
export function rdbWritten(e: Engine): number | undefined {
  const [major, minor] = majorMinor(e.version);
  if (e.family === 'valkey') {
    if (major < 7) return undefined;
    if (major < 9) return 11;
    return major === 9 && minor < 2 ? 80 : 81;
  }
  if (major < 6) return undefined;
  if (major === 6) return 9;
  if (major === 7) return minor === 0 ? 10 : minor <= 2 ? 11 : 12;
  return major === 8 && minor < 6 ? 12 : 13;
}

/** Whether a release loads RDB version `v` (with its default settings). */
export function loadsRdb(e: Engine, v: number): boolean {
  const own = rdbWritten(e);
  if (own === undefined) return true;
  if (e.family === 'redis') return v <= own && v < 80;
  return v <= 11 || (v >= 80 && v <= own);
}

/**
 * Why a replica running `replica` must not be pointed at a master running `master`, or undefined: it could not
 * load the master's RDB, and a replica empties its own data before it finds that out.
 */
export function followProblem(replica: Engine, master: Engine): string | undefined {
  const v = rdbWritten(master);
  if (v === undefined || loadsRdb(replica, v)) return undefined;
  return (
    `${engineText(master)} writes RDB version ${v}, which ${engineText(replica)} cannot load (a replica empties ` +
    "its data before it finds that out): run this pod on the master's engine and version, or a newer one"
  );
}

/** The engine a text such as `valkey 8.0.1` names (status, the pod's engine annotation); undefined otherwise. */
export function parseEngine(t: string | undefined): Engine | undefined {
  const [family, version] = (t ?? '').split(' ');
  return (family === 'redis' || family === 'valkey') && version ? { family, version } : undefined;
}

/**
 * Why a replica running `self` must be no failover candidate (replica-priority 0), or undefined: one of the other
 * replicas (`others`: pod name and engine text) could not load the RDB it writes, so once promoted it could not be
 * followed (the middle of a move between engines or versions). The master being replaced is not among `others`;
 * if it comes back on its old engine, the follow guard refuses it, its data untouched. An engine not told is not
 * held against anyone.
 */
export function candidacyProblem(self: Engine, others: { pod: string; engine?: string }[]): string | undefined {
  const v = rdbWritten(self);
  if (v === undefined) return undefined;
  const stuck = others.find((o) => {
    const e = parseEngine(o.engine);
    return e && !loadsRdb(e, v);
  });
  return stuck
    ? `no failover candidate while ${stuck.pod} (${stuck.engine}) replicates: it could not load RDB version ${v}, ` +
        `which ${engineText(self)} writes (move the replicas first, then the master)`
    : undefined;
}

/**
 * Each replica held from failover by candidacyProblem, one sentence each (`replicas`: pod name, engine text), and
 * one more when that holds every replica: no failover can then replace the master.
 */
export function candidacyProblems(replicas: { pod: string; engine?: string }[]): string[] {
  const held = replicas.flatMap((r) => {
    const e = parseEngine(r.engine);
    const why = e
      ? candidacyProblem(
          e,
          replicas.filter((o) => o.pod !== r.pod),
        )
      : undefined;
    return why ? [`${r.pod} is ${why}`] : [];
  });
  const none = held.length > 0 && held.length === replicas.length;
  return none ? [...held, 'no replica may be promoted: a failover would wait until the replicas run one engine'] : held;
}

/**
 * Replicas that cannot load their master's RDB, one sentence each, from each pod's engine as status shows it
 * (`valkey 8.0.1`) and who follows whom (`[replica pod, master pod]`). Two engines side by side are not reported by
 * themselves: a move from one to the other goes replica first.
 */
export function followProblems(engines: Record<string, string | undefined>, follows: [string, string][]): string[] {
  return follows.flatMap(([replica, master]) => {
    const [r, m] = [parseEngine(engines[replica]), parseEngine(engines[master])];
    const problem = r && m ? followProblem(r, m) : undefined;
    return problem ? [`${replica} cannot sync from its master ${master}: ${problem.split(' (a replica')[0]}`] : [];
  });
}
