// redis-cli --cluster, run for the launcher: slot moves are what it does well (MIGRATE in batches, slot states,
// retries). The password goes in REDISCLI_AUTH (never in argv), stdin is closed (no question is ever waited on),
// and a move that stopped half-way is closed with `fix` only while every slot is served.
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import type { Config } from '../config/types.ts';
import { nodeState } from './observe.ts';

/**
 * Runs redis-cli --cluster with the set's password and TLS; its output goes to `out`; throws on failure. redis-cli
 * refuses (before it changes anything) while the nodes do not agree about the configuration, as for a moment
 * after a restart or a failover: that is tried again for up to 30 s.
 */
export async function redisCli(
  c: Config,
  args: string[],
  out: (s: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    signal?.throwIfAborted();
    const r = await redisCliOnce(c, args, signal);
    const disagree = /Nodes don't agree about configuration/.test(r.text);
    if (r.code === 0 || !disagree || Date.now() > deadline) {
      for (const line of r.text.split('\n')) if (line.trim()) out(`  ${line}`);
      if (r.code !== 0) throw new Error(`redis-cli --cluster ${args[0]} failed (exit ${r.code})`);
      return;
    }
    await new Promise((done) => setTimeout(done, 500));
  }
}

async function redisCliOnce(c: Config, args: string[], signal?: AbortSignal): Promise<{ code: number; text: string }> {
  const tls = c.tls ? ['--tls', '--cert', c.tls.cert, '--key', c.tls.key, '--cacert', c.tls.ca] : [];
  const r = await execa(c.cliBin, [...tls, '--cluster', ...args], {
    env: c.password ? { REDISCLI_AUTH: c.password } : {},
    // Closed: a question redis-cli asks (fix: "type 'yes' to accept") is answered no, never waited on.
    stdin: 'ignore',
    reject: false,
    all: true,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  // redis-cli colours its --cluster output even when it is not a terminal.
  return { code: r.exitCode ?? 1, text: stripVTControlCharacters(String(r.all ?? '')) };
}

/**
 * A slot move that stopped half-way (a node failed meanwhile: CLUSTERDOWN) leaves slots open (migrating or
 * importing); `redis-cli --cluster fix` closes them, keys included, and the move is tried once more.
 */
export async function moveSlots(
  c: Config,
  entry: string,
  args: string[],
  out: (s: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await redisCli(c, args, out, signal);
  } catch (e) {
    if (signal?.aborted) throw e;
    out(`  ${(e as Error).message}: closing open slots (redis-cli --cluster fix), then once more`);
    await waitForOk(c, entry, signal);
    // `fix` also "covers" slots no node serves by giving them, empty, to some master: when a failed master still
    // owns them, its data would be dropped on its return. It only runs while every slot is served by a node that is
    // not failing (cluster_slots_ok: cluster_slots_assigned counts a failed master's slots too).
    const st = await nodeState(c, hostPort(entry));
    if (st?.info.cluster_state !== 'ok' || st.info.cluster_slots_ok !== '16384') {
      throw new Error(
        `the cluster is not whole (cluster_state:${st?.info.cluster_state ?? 'no answer'}, ` +
          `${st?.info.cluster_slots_ok ?? '?'} slots served by a node that is not failing): not closing slots ` +
          'with redis-cli --cluster fix, which could re-create missing ones empty; see launcher status',
        { cause: e },
      );
    }
    await redisCli(c, ['fix', entry], out, signal);
    await redisCli(c, args, out, signal);
  }
}

const hostPort = (entry: string) => ({
  host: entry.slice(0, entry.lastIndexOf(':')),
  port: Number(entry.slice(entry.lastIndexOf(':') + 1)),
});

/** Waits (up to 60 s, or until `signal`) until the entry node says cluster_state:ok. */
export async function waitForOk(c: Config, entry: string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await nodeState(c, hostPort(entry)))?.info.cluster_state !== 'ok' && Date.now() < deadline) {
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, 500));
  }
}
