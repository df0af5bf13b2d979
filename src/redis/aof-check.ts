// Observe + act for one failure: redis-server exited before it ever answered, and its last lines say it could not
// load its AOF (a bad command in the middle of a file, a broken RDB base; a truncated tail of the last file Redis
// loads by itself, aof-load-truncated yes, so that is never the reason). redis-check-aof, run read-only, adds which
// file and up to which byte it is valid. A replica's data is replaced by the master's at its next full sync, so
// its AOF (and dump.rdb, which would still say "has data") is moved aside, kept, and the next start resyncs; only
// while its master answers as a master holding data. A master's is the data of record and is never touched: the
// line says what a person has to do.
import { access, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** Redis 7.0's own line when it gave up loading its AOF (aof.c), or undefined. */
export function aofLoadFailure(lines: string[]): string | undefined {
  const gaveUp = new RegExp(
    [
      '(Bad file format|Unrecoverable error|Unexpected end of file) reading the append only file',
      'AOF loading aborted',
      'Invalid AOF manifest',
      'Found an invalid AOF manifest',
    ].join('|'),
  );
  return lines.find((l) => gaveUp.test(l))?.replace(/^\d+:[A-Z] [^#*]*[#*] /, '');
}

export type AofVerdict = { valid: true } | { valid: false; file: string; okUpTo?: number; size?: number };

/** The first file redis-check-aof calls "not valid", with its last "AOF analyzed" figures. */
export function aofVerdict(output: string): AofVerdict {
  const bad = /AOF (\S+) is not valid/.exec(output);
  if (!bad) return { valid: true };
  const file = bad[1];
  const fig = new RegExp(`filename=${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, size=(\\d+), ok_up_to=(\\d+)`);
  const m = fig.exec(output);
  return m ? { valid: false, file, size: Number(m[1]), okUpTo: Number(m[2]) } : { valid: false, file };
}

/** What redis-check-aof opens: the multi-part manifest (Redis 7), else a single appendonly.aof (older layouts). */
export async function aofTarget(dataDir: string): Promise<{ path: string; moves: string } | undefined> {
  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );
  const manifest = join(dataDir, 'appendonlydir', 'appendonly.aof.manifest');
  if (await exists(manifest)) return { path: manifest, moves: join(dataDir, 'appendonlydir') };
  const single = join(dataDir, 'appendonly.aof');
  if (await exists(single)) return { path: single, moves: single };
  return undefined;
}

/** Runs the engine's AOF checker (redis-check-aof, valkey-check-aof) without --fix; undefined when there is no AOF
 * or the tool cannot run. */
export async function checkAof(
  dataDir: string,
  checkAofBin: string,
): Promise<(AofVerdict & { target: string; moves: string }) | undefined> {
  const t = await aofTarget(dataDir);
  if (!t) return undefined;
  const r = await execa(checkAofBin, [t.path], { reject: false, all: true, timeout: 120_000 });
  if (r.failed && r.exitCode === undefined) return undefined;
  return { ...aofVerdict(r.all ?? ''), target: t.path, moves: t.moves };
}

/** What went wrong, in words: the checker's figures when it found the bad file, else Redis's own line. */
export function whatIsWrong(redisLine: string, v: AofVerdict | undefined): string {
  if (v && !v.valid) {
    return v.okUpTo !== undefined ? `${v.file} is valid up to byte ${v.okUpTo} of ${v.size}` : `${v.file} is not valid`;
  }
  return redisLine;
}

/** The engine's programs by name, for the lines below: redis-server and redis-check-aof, or Valkey's. */
export type AofTools = { server: string; checker: string };
const REDIS_TOOLS: AofTools = { server: 'redis-server', checker: 'redis-check-aof' };

/** The master's one line: nothing discarded, what to run. */
export function corruptMasterLine(
  what: string,
  target: string,
  why = 'This pod was to start as master',
  tools: AofTools = REDIS_TOOLS,
): string {
  return (
    `${tools.server} cannot load its AOF: ${what}. ${why}, so its data is kept as it is: back up the volume, then ` +
    `run ${tools.checker} --fix ${target} (it cuts the file at the first bad command) or restore a backup; exiting`
  );
}

/**
 * Moves a replica's AOF and dump.rdb into `corrupt-<time>/` in the data dir (kept, never overwriting an older
 * copy); returns that directory.
 */
export async function setAsideCorruptAof(dataDir: string, now = new Date()): Promise<string> {
  const aside = join(dataDir, `corrupt-${now.toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(aside);
  for (const f of ['appendonlydir', 'appendonly.aof', 'dump.rdb']) {
    await rename(join(dataDir, f), join(aside, f)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  return aside;
}

export function corruptReplicaLine(what: string, aside: string, master: string, tools = REDIS_TOOLS): string {
  return (
    `${tools.server} cannot load its AOF: ${what}. This pod starts as a replica of ${master}, which answers as a ` +
    `master holding data and whose full sync replaces this pod's, so its AOF and dump.rdb were moved aside to ` +
    `${aside} (kept: delete it once it is not needed, it takes space on the volume); the next start resyncs; exiting`
  );
}
