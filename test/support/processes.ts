// Every process a test starts is registered here and stopped by PID (process group) when the test ends,
// when the test process exits, or on Ctrl-C. Nothing is ever killed by name.
import { readdirSync, readFileSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';

type Tracked = { name: string; proc: ResultPromise; group: boolean };
const running = new Set<Tracked>();

/**
 * Every process in the session `sid` (a group leader started here is a session leader, like a container's PID 1:
 * its descendants stay in its session even when they move to process groups of their own, as tini puts its child).
 */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp session ...
      if (Number(fields[3]) === sid) out.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function killTracked(t: Tracked, signal: NodeJS.Signals) {
  const pid = t.proc.pid;
  if (pid === undefined) return;
  try {
    if (t.group) process.kill(-pid, signal);
    else process.kill(pid, signal);
  } catch {
    /* already gone */
  }
  // SIGKILL ends the whole "container": also what left the group but not the session.
  if (t.group && signal === 'SIGKILL') {
    for (const member of sessionMembers(pid)) {
      try {
        process.kill(member, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const t of running) killTracked(t, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const t of running) killTracked(t, 'SIGKILL');
      process.exit(130);
    });
  }
}

export type Started = {
  name: string;
  pid: number;
  proc: ResultPromise;
  /** Resolves when the process has exited and its output pipes are closed (they may outlive it in children). */
  exited: Promise<{ exitCode?: number; signal?: string }>;
  /** Resolves as soon as the process itself has exited, even while processes it started hold its pipes open. */
  leaderExited: Promise<{ exitCode?: number; signal?: string }>;
  /** Sends a signal to the process (its whole group when started as a group leader). */
  signal(sig: NodeJS.Signals): void;
  /** Sends a signal to the process itself only, as the kubelet signals a container's PID 1. */
  signalLeader(sig: NodeJS.Signals): void;
  /** SIGTERM to the process itself, then SIGKILL (to the group) after graceMs; resolves once exited. */
  stop(graceMs?: number): Promise<{ exitCode?: number; signal?: string }>;
  /**
   * Stops it as a container runtime stops a container whose PID 1 this is: SIGTERM to this process only; after
   * graceMs SIGKILL to every process left in its process group; and when it exits first, the rest of the group
   * is SIGKILLed at once (a container's processes do not outlive its PID 1). `graceExpired`: SIGKILL was needed.
   */
  stopContainer(graceMs: number): Promise<{ exitCode?: number; signal?: string; graceExpired: boolean }>;
  /** The last lines it printed (stdout and stderr), for failure messages. */
  tail: string[];
};

const TAIL_LINES = 40;

/** Starts a process, tracked for cleanup. `group: true` makes it a process-group leader so its children die with it. */
export function startProcess(
  name: string,
  file: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; group?: boolean; log?: (line: string) => void } = {},
): Started {
  hookExit();
  const proc = execa(file, args, {
    env: opts.env,
    extendEnv: true,
    cwd: opts.cwd,
    reject: false,
    detached: opts.group ?? false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    forceKillAfterDelay: false,
    cleanup: true,
  });
  const t: Tracked = { name, proc, group: opts.group ?? false };
  running.add(t);
  const log =
    opts.log ?? (process.env.TEST_VERBOSE ? (l: string) => process.stderr.write(`[${name}] ${l}\n`) : undefined);
  const tail: string[] = [];
  for (const s of [proc.stdout, proc.stderr]) {
    let buf = '';
    s?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        log?.(line);
      }
    });
  }
  const leaderExited = new Promise<{ exitCode?: number; signal?: string }>((resolve) => {
    const done = (code: number | null, sig: NodeJS.Signals | null) =>
      resolve({ exitCode: code ?? undefined, signal: sig ?? undefined });
    const cp = proc.nodeChildProcess;
    if (cp.exitCode !== null || cp.signalCode !== null) done(cp.exitCode, cp.signalCode);
    else cp.once('exit', done);
  });
  const exited = proc.then((r) => {
    running.delete(t);
    return { exitCode: r.exitCode, signal: r.signal };
  });
  const started: Started = {
    name,
    pid: proc.pid!,
    proc,
    exited,
    leaderExited,
    tail,
    signal: (sig) => killTracked(t, sig),
    signalLeader: (sig) => {
      try {
        process.kill(proc.pid!, sig);
      } catch {
        /* gone */
      }
    },
    async stop(graceMs = 5000) {
      if (!running.has(t)) return exited;
      try {
        process.kill(proc.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const timer = setTimeout(() => killTracked(t, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async stopContainer(graceMs) {
      let graceExpired = false;
      if (running.has(t)) {
        try {
          process.kill(proc.pid!, 'SIGTERM');
        } catch {
          /* gone */
        }
        const timer = setTimeout(() => {
          graceExpired = true;
          killTracked(t, 'SIGKILL');
        }, graceMs);
        try {
          await leaderExited;
        } finally {
          clearTimeout(timer);
        }
      }
      if (t.group) killTracked(t, 'SIGKILL');
      await exited;
      return { ...(await leaderExited), graceExpired };
    },
  };
  return started;
}

const beforeStop = new Set<() => void>();

/** Runs fn at the start of stopAll() (e.g. a simulated kubelet stops restarting containers); returns an undo. */
export function beforeStopAll(fn: () => void): () => void {
  beforeStop.add(fn);
  return () => beforeStop.delete(fn);
}

export async function stopAll(): Promise<void> {
  for (const fn of [...beforeStop]) fn();
  await Promise.all(
    [...running].map(async (t) => {
      killTracked(t, 'SIGKILL');
      await t.proc.catch(() => {});
    }),
  );
}
