// The Sentinel supervisor's side of launcher-promote: a local socket in the Sentinel container's config dir that
// takes the client-reconfig-script's arguments and answers with its exit code and stderr lines.
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { log } from './log.ts';
import type { HookReply } from './promote-hook.ts';

export async function serveHook(path: string, handle: (args: string[]) => Promise<HookReply>): Promise<Server> {
  await rm(path, { force: true }); // a socket left by an earlier run of this container
  // allowHalfOpen: the hook ends its side after sending; the answer goes back on ours.
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let data = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      data += String(d);
      const nl = data.indexOf('\n');
      if (nl < 0) return;
      let args: string[];
      try {
        args = (JSON.parse(data.slice(0, nl)) as { args: string[] }).args.map(String);
      } catch {
        s.end(JSON.stringify({ code: 2, err: ['launcher: the hook sent something that is not its arguments'] }));
        return;
      }
      void handle(args).then(
        (reply) => s.end(JSON.stringify(reply)),
        (e: unknown) => s.end(JSON.stringify({ code: 1, err: [`launcher: ${(e as Error).message}`] })),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  server.unref();
  log.info(`launcher-promote is answered here: ${path}`);
  return server;
}
