// /healthz, /readyz and /metrics on LISTEN_ADDRESS:LAUNCHER_HTTP_PORT (every IPv4 and IPv6 address by default).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export type Check = () => Promise<{ ok: boolean; reason: string }>;

export async function serveHttp(
  host: string | undefined,
  port: number,
  checks: { liveness: Check; readiness: Check },
  metrics: { registry: Registry },
): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      try {
        if (path === '/metrics') {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(await metrics.registry.metrics());
          return;
        }
        const check =
          path === '/healthz' || path === '/livez'
            ? checks.liveness
            : path === '/readyz'
              ? checks.readiness
              : undefined;
        if (!check) {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('not found\n');
          return;
        }
        const r = await check();
        res.writeHead(r.ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`${r.ok ? 'ok' : 'not ok'}: ${r.reason}\n`);
      } catch (e) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`error: ${(e as Error).message}\n`);
      }
    })();
  });
  const listen = (on: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, on, () => {
        server.off('error', reject);
        resolve();
      });
    });
  if (host) {
    await listen(host);
  } else {
    // Every address, IPv4 and IPv6 (an IPv6-only or dual-stack cluster probes the pod's IPv6 address); on a node
    // without IPv6, IPv4 alone.
    await listen('::').catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EAFNOSUPPORT' && e.code !== 'EADDRNOTAVAIL') throw e;
      return listen('0.0.0.0');
    });
  }
  server.unref();
  return server;
}
