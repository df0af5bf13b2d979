// Every process a test starts is registered here and stopped by PID (process group) when the test ends,
// when the test process exits, or on Ctrl-C. Nothing is ever killed by name.
import { execa, type ResultPromise } from 'execa';

type Tracked = { name: string; proc: ResultPromise; group: boolean };
const running = new Set<Tracked>();

function killTracked(t: Tracked, signal: NodeJS.Signals) {
  const pid = t.proc.pid;
  if (pid === undefined) return;
  try {
    if (t.group) process.kill(-pid, signal);
    else process.kill(pid, signal);
  } catch {
    /* already gone */
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
  /** Resolves when the process has exited. */
  exited: Promise<{ exitCode?: number; signal?: string }>;
  /** Sends a signal to the process (its whole group when started as a group leader). */
  signal(sig: NodeJS.Signals): void;
  /** Sends a signal to the process itself only, as the kubelet signals a container's PID 1. */
  signalLeader(sig: NodeJS.Signals): void;
  /** SIGTERM to the process itself, then SIGKILL (to the group) after graceMs; resolves once exited. */
  stop(graceMs?: number): Promise<{ exitCode?: number; signal?: string }>;
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
  const exited = proc.then((r) => {
    running.delete(t);
    return { exitCode: r.exitCode, signal: r.signal };
  });
  const started: Started = {
    name,
    pid: proc.pid!,
    proc,
    exited,
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
  };
  return started;
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(async (t) => {
      killTracked(t, 'SIGKILL');
      await t.proc.catch(() => {});
    }),
  );
}
