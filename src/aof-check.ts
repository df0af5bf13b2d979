// Observe + act for one failure: redis-server exited before it ever answered, and the reason may be its AOF (a bad
// command in the middle of a file; a truncated tail Redis loads by itself, aof-load-truncated yes). redis-check-aof,
// run read-only, says which file and up to which byte it is valid. A replica's data is replaced by the master's at
// its next full sync, so its corrupt AOF is moved aside (kept, not deleted) and the next start resyncs; a master's
// is the data of record and is never touched: the line says what a person has to do.
import { access, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

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

/** redis-check-aof sits next to redis-server (Debian's redis-tools; it is the same binary). */
export function checkAofBin(redisServerBin: string): string {
  return redisServerBin.includes('/') ? join(dirname(redisServerBin), 'redis-check-aof') : 'redis-check-aof';
}

/** Runs redis-check-aof without --fix; undefined when there is no AOF or the tool cannot run. */
export async function checkAof(
  dataDir: string,
  redisServerBin: string,
): Promise<(AofVerdict & { target: string; moves: string }) | undefined> {
  const t = await aofTarget(dataDir);
  if (!t) return undefined;
  const r = await execa(checkAofBin(redisServerBin), [t.path], { reject: false, all: true, timeout: 120_000 });
  if (r.failed && r.exitCode === undefined) return undefined;
  return { ...aofVerdict(r.all ?? ''), target: t.path, moves: t.moves };
}

const where = (v: Extract<AofVerdict, { valid: false }>) =>
  v.okUpTo !== undefined ? `${v.file} is valid up to byte ${v.okUpTo} of ${v.size}` : `${v.file} is not valid`;

/** The master's one line: nothing discarded, what to run. */
export function corruptMasterLine(v: Extract<AofVerdict, { valid: false }> & { target: string }): string {
  return (
    `redis-server cannot load its AOF: ${where(v)}. This pod was to start as master, so its data is kept as it is: ` +
    `back up the volume, then run redis-check-aof --fix ${v.target} (it cuts the file at the first bad command) ` +
    `or restore a backup; exiting`
  );
}

/** Moves a replica's corrupt AOF aside (one kept copy, replacing an older one); returns the new name. */
export async function setAsideCorruptAof(moves: string): Promise<string> {
  const aside = `${moves}.corrupt`;
  await rm(aside, { recursive: true, force: true });
  await rename(moves, aside);
  return aside;
}

export function corruptReplicaLine(v: Extract<AofVerdict, { valid: false }>, aside: string, master: string): string {
  return (
    `redis-server cannot load its AOF: ${where(v)}. This pod starts as a replica of ${master}, whose full sync ` +
    `replaces its data, so the AOF was moved aside to ${aside}; the next start resyncs; exiting`
  );
}
