// Act: run redis-server / redis-sentinel as the container's main child. Signals are forwarded, the child's
// exit code becomes ours (128 + signal when it was killed), and a SIGTERM that Redis does not honour within
// the stop timeout ends in SIGKILL.
import { constants } from 'node:os';
import { execa, type ResultPromise } from 'execa';
import { log } from './log.ts';

/** `lastLines`: the child's last output lines (it still writes to the container's stdout and stderr). */
export type Child = { proc: ResultPromise; done: Promise<number>; lastLines: () => string[] };

const KEPT_LINES = 50;

export function exitCodeOf(r: { exitCode?: number; signal?: string }): number {
  if (r.exitCode !== undefined) return r.exitCode;
  if (r.signal) return 128 + (constants.signals[r.signal as keyof typeof constants.signals] ?? 0);
  return 1;
}

/**
 * Starts the child with stdio inherited. `onSignal` runs first when SIGTERM/SIGINT arrives (e.g. a handover), for
 * at most `onSignalBudgetMs`; then the signal is forwarded to the child.
 */
export function supervise(
  file: string,
  args: string[],
  stopTimeoutMs: number,
  onSignal?: (sig: NodeJS.Signals) => Promise<void>,
  onSignalBudgetMs = Infinity,
): Child {
  // Redis and Sentinel rewrite their config files (CONFIG REWRITE, Sentinel's config flush) as new files created
  // with the process umask: with the usual 022 a redis.conf holding requirepass/masterauth became 0644.
  process.umask(0o077);
  // The handlers are in place before the child starts: execa takes a while to return after spawning it, and a
  // SIGTERM in that window would otherwise end the launcher by default, the child left unsignalled. A signal
  // can only be handled once this function has returned, so `proc` is set by then.
  let stopping = false;
  const forward = (sig: NodeJS.Signals) => {
    if (stopping) {
      proc.kill(sig);
      return;
    }
    stopping = true;
    log.info(`${sig} received: stopping ${file}`);
    void (async () => {
      let timer: NodeJS.Timeout | undefined;
      // The shutdown step has a hard budget: whatever it waits for, the child is signalled when it runs out.
      const budget = new Promise<'over'>((resolve) => {
        if (Number.isFinite(onSignalBudgetMs)) timer = setTimeout(resolve, onSignalBudgetMs, 'over');
      });
      try {
        if ((await Promise.race([onSignal?.(sig), budget])) === 'over') {
          log.warn(`shutdown step still running after ${onSignalBudgetMs} ms; stopping ${file} now`);
        }
      } catch (e) {
        log.warn(`shutdown step failed: ${(e as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
      proc.kill(sig === 'SIGINT' ? 'SIGTERM' : sig);
    })();
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  // Written through to ours (kubectl logs sees them) and kept in memory, the last lines only, so that a child
  // that exits can be explained (e.g. which file Redis could not load).
  const proc = execa(file, args, {
    stdin: 'inherit',
    stdout: ['inherit', 'pipe'],
    stderr: ['inherit', 'pipe'],
    buffer: false,
    reject: false,
    forceKillAfterDelay: stopTimeoutMs,
    cleanup: true,
  });
  const kept: string[] = [];
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      kept.push(...lines);
      if (kept.length > KEPT_LINES) kept.splice(0, kept.length - KEPT_LINES);
    });
  }
  const done = proc.then((r) => {
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
    const code = exitCodeOf(r);
    log.info(`${file} exited (${r.signal ? `signal ${r.signal}` : `code ${r.exitCode}`}); launcher exits ${code}`);
    return code;
  });
  return { proc, done, lastLines: () => [...kept] };
}
