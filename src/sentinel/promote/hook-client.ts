// `launcher-promote`, the client-reconfig-script Sentinel runs at every failover, as a small entry of its own: it
// hands its arguments to the warm Sentinel supervisor of this container over a local socket and passes on the
// outcome (exit 0 done, 1 retry, 2 give up; one line on stderr). Only when no supervisor answers does it start the
// full launcher's `promote`. Nothing heavy is loaded here: no Kubernetes client, no Redis client.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRequest, parseArray, type HookReply } from './hook-protocol.ts';

/** Where the Sentinel supervisor listens: in the Sentinel container's config dir (an emptyDir). */
export const hookSocket = (confDir: string) => join(confDir, 'launcher.sock');
export type { HookReply };

/** Asks the supervisor; undefined when nobody listens (then the caller does the work itself). */
export function askSupervisor(path: string, args: string[], timeoutMs: number): Promise<HookReply | undefined> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let connected = false;
    const s = createConnection(path);
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ code: 1, err: [`launcher: the Sentinel supervisor did not answer within ${timeoutMs} ms`] });
    }, timeoutMs);
    s.on('connect', () => {
      connected = true;
      s.write(encodeRequest(args));
    });
    s.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      if (!connected) return resolve(undefined);
      try {
        const [code, ...err] = parseArray(buf)?.items ?? [];
        if (typeof code !== 'number') throw new Error('no exit code');
        resolve({ code, err: err.map(String) });
      } catch {
        resolve({ code: 1, err: ['launcher: the Sentinel supervisor closed the connection without an answer'] });
      }
    });
  });
}

/** The full launcher beside this entry: the bundle's launcher.mjs, or bin/launcher when run from source. */
function fullLauncher(): string {
  const here = fileURLToPath(import.meta.url);
  return basename(here).endsWith('.mjs')
    ? join(dirname(here), 'launcher.mjs')
    : join(dirname(here), '../../../bin/launcher');
}

export async function runHook(): Promise<number> {
  const args = process.argv.slice(2);
  const reply = await askSupervisor(hookSocket(process.env.REDIS_CONF_DIR || '/etc/redis-ha'), args, 30_000);
  if (reply) {
    for (const line of reply.err) process.stderr.write(line + '\n');
    return reply.code;
  }
  // Nobody listens (the supervisor is not up yet, or this is not a Sentinel container): do it ourselves.
  const child = spawn(process.execPath, [fullLauncher(), 'promote', '--', ...args], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}
