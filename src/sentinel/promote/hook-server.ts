// The Sentinel supervisor's side of launcher-promote: a local socket in the Sentinel container's config dir that
// takes the client-reconfig-script's arguments (HOOK <args...>, in RESP: see hook-protocol.ts) and answers with
// its exit code and stderr lines.
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { log } from '../../runtime/log.ts';
import { encodeReply, parseArray, type HookReply } from './hook-protocol.ts';

export async function serveHook(path: string, handle: (args: string[]) => Promise<HookReply>): Promise<Server> {
  await rm(path, { force: true }); // a socket left by an earlier run of this container
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let buf = Buffer.alloc(0);
    let answered = false;
    const answer = (r: HookReply) => {
      answered = true;
      s.end(encodeReply(r));
    };
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      if (answered) return;
      buf = Buffer.concat([buf, d]);
      let req;
      try {
        req = parseArray(buf);
      } catch (e) {
        return answer({ code: 2, err: [`launcher: the hook sent something that is not HOOK <args>: ${String(e)}`] });
      }
      if (!req) return;
      const [cmd, ...args] = req.items.map(String);
      if (cmd?.toUpperCase() !== 'HOOK') {
        return answer({ code: 2, err: [`launcher: the hook sent ${JSON.stringify(cmd)}, not HOOK <args>`] });
      }
      void handle(args).then(answer, (e: unknown) => answer({ code: 1, err: [`launcher: ${(e as Error).message}`] }));
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
