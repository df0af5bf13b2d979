// What /proc says of a process: its CPU time and memory, and its children (a supervisor's redis-sentinel).
import { readFile } from 'node:fs/promises';

/** USER_HZ on Linux: /proc's CPU times are in these ticks. */
export const TICKS = 100;

/** user + system CPU time so far, in ticks. */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime
}

/**
 * A /proc/<pid>/status figure in MiB: VmRSS (all resident), RssAnon (private), RssFile (mapped files, mostly the
 * Node executable, shared by every Node process of the image on a machine).
 */
export async function statusMiB(pid: number, field: 'VmRSS' | 'RssAnon' | 'RssFile'): Promise<number> {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}
export const rssMiB = (pid: number) => statusMiB(pid, 'VmRSS');
export const anonMiB = (pid: number) => statusMiB(pid, 'RssAnon');

/** The PIDs of a process's direct children (its main thread's). */
export async function childPids(pid: number): Promise<number[]> {
  const s = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return s.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The % of one core a set of processes used between two cpuTicks readings `secs` apart. */
export const cpuPct = (before: number, after: number, secs: number) =>
  Math.round(((after - before) / TICKS / secs) * 1000) / 10;
