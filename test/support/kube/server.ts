// Stand-in kube-apiserver: an in-process HTTP server on 127.0.0.1 that answers the REST calls the launcher,
// client-node and kubectl make, the way kube-apiserver does. See shared/reference/kube-api-standin.md.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { apiGroupList, apiVersions, resourceList, version } from './discovery.ts';
import { faultError, faultHeaders, Faults } from './faults.ts';
import * as h from './handlers.ts';
import { toTable, wantsTable } from './table.ts';
import { findResource, type Obj } from './resources.ts';
import { ApiError, forbidden, methodNotAllowed, unauthorized, unknownRoute } from './status.ts';
import { Store } from './store.ts';

/** An RBAC-like grant: verbs on resources ("pods", "pods/status") in API groups ("" = core). "*" matches all. */
/** An RBAC rule: like kube's, a rule with resourceNames matches only requests naming one of them (not create/list). */
export type Grant = { verbs: string[]; resources: string[]; groups?: string[]; resourceNames?: string[] };
export type Identity = { user: string; grants?: Grant[] }; // no grants = cluster-admin

export type StandinOptions = {
  tokens?: Record<string, Identity>;
  /**
   * Identity for requests without credentials (kube's anonymous auth); unset = 401.
   * kubectl sends no token over http.
   */
  anonymous?: Identity;
  bookmarkMs?: number;
  historyLimit?: number;
  /** Called for every request, for tests that assert on what a client sent. */
  onRequest?: (r: { method: string; url: string; headers: IncomingMessage['headers']; body: string }) => void;
};

export type { Fault, FaultRule } from './faults.ts';

export const DEFAULT_TOKEN = 'standin-admin-token';

export class KubeStandin {
  readonly store: Store;
  private server?: Server;
  readonly tokens: Record<string, Identity>;
  private readonly watchEnds = new Set<() => void>();
  /** Like the onRequest option, for a test that joins a running stand-in; it removes its listener again. */
  readonly requestListeners = new Set<NonNullable<StandinOptions['onRequest']>>();
  port = 0;
  private readonly opts: StandinOptions;
  /** Injected failures and delays on chosen requests (see faults.ts); empty = none. */
  readonly faults = new Faults();
  private readonly held = new Set<() => void>();

  constructor(opts: StandinOptions = {}) {
    this.opts = opts;
    this.store = new Store(opts.historyLimit);
    this.tokens = opts.tokens ?? { [DEFAULT_TOKEN]: { user: 'system:admin' } };
  }

  /** The address it listens on: loopback, or the bridge of a test's own network (test/support/netns.ts). */
  host = '127.0.0.1';

  get url() {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  async start(opts: { host?: string } = {}): Promise<this> {
    this.host = opts.host ?? this.host;
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => this.server!.listen(0, this.host, resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Ends every open watch stream, as an apiserver restart or a load balancer's idle cut does. */
  dropWatches() {
    for (const end of [...this.watchEnds]) end();
  }

  async close(): Promise<void> {
    this.faults.clear();
    for (const release of [...this.held]) release();
    for (const end of [...this.watchEnds]) end();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Writes a kubeconfig (Recipe A of the spec) and returns its path. */
  async writeKubeconfig(
    dir: string,
    opts: { token?: string; namespace?: string; file?: string } = {},
  ): Promise<string> {
    const path = join(dir, opts.file ?? 'kubeconfig');
    const yaml = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: standin',
      '  cluster:',
      `    server: "${this.url}"`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: launcher',
      '  user:',
      `    token: "${opts.token ?? DEFAULT_TOKEN}"`,
      'contexts:',
      '- name: standin',
      '  context:',
      '    cluster: standin',
      '    user: launcher',
      `    namespace: "${opts.namespace ?? 'default'}"`,
      'current-context: standin',
      '',
    ].join('\n');
    await writeFile(path, yaml, { mode: 0o600 });
    return path;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw };
    this.opts.onRequest?.(seen);
    for (const l of this.requestListeners) l(seen);
    const info = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body: raw };
    const fault = this.faults.size ? this.faults.take(info) : undefined;
    if (fault?.status !== undefined) {
      await this.hold(fault.delayMs, fault.until);
      const e = faultError(fault, info, this.userOf(req));
      return this.send(res, { code: e.status.code, body: e.status, headers: faultHeaders(e.status.code) });
    }
    const watching = info.method === 'GET' && ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    if (fault && (fault.delayWhen === 'request' || watching)) await this.hold(fault.delayMs, fault.until);
    let reply: h.Reply | undefined;
    try {
      const r = this.route(req, res, url, raw);
      reply = r instanceof Promise ? await r : r;
    } catch (e) {
      if (e instanceof ApiError) reply = { code: e.status.code, body: e.status };
      else {
        console.error('stand-in internal error', e);
        reply = { code: 500, body: new ApiError(500, 'InternalError', String(e)).status };
      }
    }
    if (!reply) return;
    const table = info.method === 'GET' && reply.code === 200 ? wantsTable(req.headers.accept) : undefined;
    if (table && !watching) {
      reply = { ...reply, body: toTable(reply.body, table, url.searchParams.get('includeObject')) };
    }
    if (fault && fault.delayWhen !== 'request') await this.hold(fault.delayMs, fault.until);
    this.send(res, reply);
  }

  /** Waits ms (a fault's delay), or until `until()` is true; released at once when the stand-in closes. */
  private async hold(ms = 0, until?: () => boolean) {
    if (ms <= 0 || until?.()) return;
    await new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.held.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      const poll = until ? setInterval(() => until() && release(), 20) : undefined;
      this.held.add(release);
    });
  }

  private userOf(req: IncomingMessage): string {
    try {
      return this.authenticate(req).user;
    } catch {
      return 'system:anonymous';
    }
  }

  private send(res: ServerResponse, r: h.Reply) {
    if (res.headersSent) return;
    const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    res.writeHead(r.code, {
      'Content-Type': typeof r.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      ...(r.headers ?? {}),
    });
    res.end(body);
  }

  private authenticate(req: IncomingMessage): Identity {
    if (!req.headers.authorization && this.opts.anonymous) return this.opts.anonymous;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const id = m ? this.tokens[m[1].trim()] : undefined;
    if (!id) throw unauthorized();
    return id;
  }

  private authorize(id: Identity, verb: string, resource: string, group: string, ns: string, name?: string) {
    if (!id.grants) return;
    const ok = id.grants.some(
      (g) =>
        (g.verbs.includes('*') || g.verbs.includes(verb)) &&
        (g.resources.includes('*') || g.resources.includes(resource)) &&
        (g.groups ?? ['*']).some((x) => x === '*' || x === group) &&
        (!g.resourceNames?.length || (name !== undefined && g.resourceNames.includes(name))),
    );
    if (!ok) throw forbidden(id.user, verb, resource, group, ns, name);
  }

  private route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    raw: string,
  ): h.Reply | Promise<h.Reply> | undefined {
    const id = this.authenticate(req);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    if (method === 'GET') {
      if (url.pathname === '/version') return { code: 200, body: version() };
      if (url.pathname === '/api') return { code: 200, body: apiVersions(`127.0.0.1:${this.port}`) };
      if (url.pathname === '/apis') return { code: 200, body: apiGroupList() };
      if (url.pathname === '/api/v1') return { code: 200, body: resourceList('') };
      if (parts[0] === 'apis' && parts.length === 3) {
        const doc = parts[2] === 'v1' ? resourceList(parts[1]) : undefined;
        if (!doc) return { code: 404, body: '404 page not found\n' };
        return { code: 200, body: doc };
      }
    }
    let group: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') {
      group = '';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3 && parts[2] === 'v1' && resourceList(parts[1])) {
      group = parts[1];
      rest = parts.slice(3);
    } else return { code: 404, body: '404 page not found\n' };

    let ns: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name, sub, ...extra] = rest;
    const def = resource ? findResource(group, resource) : undefined;
    if (!def || extra.length || (sub !== undefined && (sub !== 'status' || !def.hasStatus))) throw unknownRoute();
    const t: h.Target = { def, ns, name, sub };
    const rbacResource = sub ? `${resource}/${sub}` : resource;
    const nsForMsg = ns ?? '';
    if (name === undefined) {
      if (method === 'GET') {
        const verb = q.get('watch') === 'true' || q.get('watch') === '1' ? 'watch' : 'list';
        this.authorize(id, verb, rbacResource, group, nsForMsg, exactName(q.get('fieldSelector')));
        if (verb === 'watch') {
          h.watch(this.store, t, q, res, { bookmarkMs: this.opts.bookmarkMs ?? 60_000 }, (end) => {
            this.watchEnds.add(end);
            return () => this.watchEnds.delete(end);
          });
          return undefined;
        }
        return h.list(this.store, t, q);
      }
      if (method === 'POST' && ns !== undefined) {
        this.authorize(id, 'create', rbacResource, group, nsForMsg);
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          throw new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format');
        }
        return h.create(this.store, t, body);
      }
      throw methodNotAllowed();
    }
    if (ns === undefined) throw unknownRoute();
    switch (method) {
      case 'GET':
        this.authorize(id, 'get', rbacResource, group, ns, name);
        return h.get(this.store, t);
      case 'PATCH':
        this.authorize(id, 'patch', rbacResource, group, ns, name);
        return h.patch(this.store, t, req.headers['content-type'], q, raw);
      case 'PUT':
        this.authorize(id, 'update', rbacResource, group, ns, name);
        return h.update(this.store, t, raw);
      case 'DELETE':
        if (sub) throw methodNotAllowed();
        this.authorize(id, 'delete', rbacResource, group, ns, name);
        return h.remove(this.store, t);
      default:
        throw methodNotAllowed();
    }
  }

  // ---- harness side: what a kubelet / StatefulSet controller would do ----

  ensureNamespace(ns: string) {
    this.store.namespaces.add(ns);
  }

  /** Creates or replaces an object directly (no validation); returns the stored object. */
  put(bucket: string, obj: Obj): Obj {
    const ns = obj.metadata.namespace ?? 'default';
    this.ensureNamespace(ns);
    const o = { ...obj, metadata: { ...obj.metadata, namespace: ns } };
    return this.store.get(bucket, ns, o.metadata.name) ? this.store.update(bucket, o) : this.store.create(bucket, o);
  }

  getObject(bucket: string, ns: string, name: string): Obj | undefined {
    return this.store.get(bucket, ns, name);
  }
  listObjects(bucket: string, ns?: string): Obj[] {
    return this.store.list(bucket, ns);
  }
  deleteObject(bucket: string, ns: string, name: string): Obj | undefined {
    return this.store.delete(bucket, ns, name);
  }
}

/**
 * The object a list or watch names, as kube-apiserver's RequestInfoFactory sees it: the value of a field selector
 * that requires metadata.name to equal exactly one value (so that RBAC resourceNames can allow it).
 */
function exactName(fieldSelector: string | null): string | undefined {
  if (!fieldSelector) return undefined;
  const reqs = fieldSelector.split(',').map((r) => /^\s*metadata\.name\s*==?\s*([^=!\s]+)\s*$/.exec(r));
  const names = new Set(reqs.filter((m) => m).map((m) => m![1]));
  return names.size === 1 ? [...names][0] : undefined;
}
