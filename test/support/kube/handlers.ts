// REST verbs on one resource: list, watch, get, create, patch, update, delete.
import type { ServerResponse } from 'node:http';
import { applyPatch, patchTypeOf } from './patch.ts';
import { groupVersion, type Obj, type ResourceDef } from './resources.ts';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  type FieldSelector,
  type LabelSelector,
} from './selectors.ts';
import { alreadyExists, badRequest, conflict, invalid, namespaceNotFound, notFound, tooLargeRV } from './status.ts';
import type { Change, Store } from './store.ts';
import { checkIdentity, checkTypes, dropUnknownFields, validateObject } from './validate.ts';

export type Reply = { code: number; body: unknown; headers?: Record<string, string> };
export type Target = { def: ResourceDef; ns?: string; name?: string; sub?: string };

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function withKind(def: ResourceDef, o: Obj): Obj {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return { kind: def.kind, apiVersion: groupVersion(def), ...rest } as Obj;
}

function withoutKind(o: Obj): Obj {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as Obj;
}

type Selectors = { labels: LabelSelector; fields: FieldSelector };

function selectors(def: ResourceDef, q: URLSearchParams): Selectors {
  try {
    return {
      labels: parseLabelSelector(q.get('labelSelector') ?? ''),
      fields: parseFieldSelector(q.get('fieldSelector') ?? '', def.fieldKeys),
    };
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

const matches = (def: ResourceDef, s: Selectors, o: Obj) =>
  matchesLabels(s.labels, o.metadata.labels) && matchesFields(s.fields, def.fields(o));

function parseRV(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) {
    throw badRequest(`invalid resource version: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  }
  return Number(v);
}

export async function list(store: Store, t: Target, q: URLSearchParams): Promise<Reply> {
  const sel = selectors(t.def, q);
  const rvMatch = q.get('resourceVersionMatch');
  const rv = parseRV(q.get('resourceVersion'));
  if (rvMatch && rv === undefined) {
    throw invalid('ListOptions.meta.k8s.io', '', [
      {
        reason: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      },
    ]);
  }
  if (rv !== undefined && rv > store.rv) {
    await new Promise((r) => setTimeout(r, 200));
    if (rv > store.rv) throw tooLargeRV(String(rv), store.rv);
  }
  const all = store.list(t.def.bucket, t.ns).filter((o) => matches(t.def, sel, o));
  let start = 0;
  const cont = q.get('continue');
  if (cont) {
    let after: string;
    try {
      const tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8'));
      if (typeof tok.after !== 'string' || typeof tok.rv !== 'number') throw new Error('shape');
      after = tok.after;
    } catch {
      throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    }
    start = all.findIndex((o) => `${o.metadata.namespace}/${o.metadata.name}` > after);
    if (start < 0) start = all.length;
  }
  const limit = Number(q.get('limit') ?? 0);
  let items = all.slice(start);
  const metadata: Record<string, unknown> = { resourceVersion: String(store.rv) };
  if (limit > 0 && items.length > limit) {
    items = items.slice(0, limit);
    const last = items[items.length - 1];
    metadata.continue = Buffer.from(
      JSON.stringify({ v: 'meta.k8s.io/v1', rv: store.rv, after: `${last.metadata.namespace}/${last.metadata.name}` }),
    ).toString('base64url');
    if (!q.get('labelSelector') && !q.get('fieldSelector')) metadata.remainingItemCount = all.length - start - limit;
  }
  return {
    code: 200,
    body: { kind: `${t.def.kind}List`, apiVersion: groupVersion(t.def), metadata, items: items.map(withoutKind) },
  };
}

export type WatchOptions = { bookmarkMs: number };

/** Streams watch events as compact JSON lines until timeoutSeconds, an ERROR, or the client goes away. */
export function watch(
  store: Store,
  t: Target,
  q: URLSearchParams,
  res: ServerResponse,
  opts: WatchOptions,
  onEnd: (end: () => void) => () => void,
) {
  const sel = selectors(t.def, q);
  const rv = parseRV(q.get('resourceVersion'));
  if ((q.get('sendInitialEvents') !== null) !== (q.get('resourceVersionMatch') !== null)) {
    throw invalid('ListOptions.meta.k8s.io', '', [
      {
        reason: 'FieldValueForbidden',
        field: 'sendInitialEvents',
        message: 'Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
      },
    ]);
  }
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  res.flushHeaders();
  const send = (type: string, object: unknown) => res.write(JSON.stringify({ type, object }) + '\n');
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = () => {};
  const end = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    timers.forEach(clearTimeout);
    res.end();
  };
  const unregister = onEnd(end);
  res.on('close', () => {
    unregister();
    end();
  });

  const onChange = (c: Change) => {
    if (closed || c.bucket !== t.def.bucket || (t.ns !== undefined && c.ns !== t.ns)) return;
    const was = c.prev !== undefined && matches(t.def, sel, c.prev);
    const is = c.cur !== undefined && matches(t.def, sel, c.cur);
    if (is && !was) send('ADDED', withKind(t.def, c.cur!));
    else if (is && was) send('MODIFIED', withKind(t.def, c.cur!));
    else if (was && !is) {
      const last = structuredClone(c.prev!);
      last.metadata.resourceVersion = String(c.rv);
      send('DELETED', withKind(t.def, last));
    }
  };

  if (rv === undefined || rv === 0) {
    for (const o of store.list(t.def.bucket, t.ns)) if (matches(t.def, sel, o)) send('ADDED', withKind(t.def, o));
  } else if (rv < store.oldestResumable()) {
    send('ERROR', {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${rv} (${store.oldestResumable() + 1})`,
      reason: 'Expired',
      code: 410,
    });
    end();
    return;
  } else {
    for (const c of store.history) if (c.rv > rv) onChange(c);
  }
  unsubscribe = store.subscribe(onChange);
  if (q.get('allowWatchBookmarks') === 'true') {
    timers.push(
      setInterval(
        () =>
          send('BOOKMARK', {
            kind: t.def.kind,
            apiVersion: groupVersion(t.def),
            metadata: { resourceVersion: String(store.rv) },
            spec: { containers: null },
            status: {},
          }),
        opts.bookmarkMs,
      ),
    );
  }
  const timeout = Number(q.get('timeoutSeconds') ?? 0);
  if (timeout > 0) timers.push(setTimeout(end, timeout * 1000));
}

export function get(store: Store, t: Target): Reply {
  const o = store.get(t.def.bucket, t.ns!, t.name!);
  if (!o) throw notFound(t.def.resource, t.def.group, t.name!);
  return { code: 200, body: withKind(t.def, o) };
}

export function create(store: Store, t: Target, body: unknown): Reply {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('the body of the request was in an unknown format');
  }
  const o = structuredClone(body) as Obj;
  o.metadata ??= { name: '' };
  checkIdentity(o, undefined, t.ns!);
  if (!store.namespaces.has(t.ns!)) throw namespaceNotFound(t.ns!);
  o.metadata.namespace = t.ns;
  if (!o.metadata.name && o.metadata.generateName) {
    const suffix = Array.from(
      { length: 5 },
      () => GENERATE_CHARS[Math.floor(Math.random() * GENERATE_CHARS.length)],
    ).join('');
    o.metadata.name = o.metadata.generateName.slice(0, 58) + suffix;
  }
  if (!o.metadata.name) {
    throw invalid(t.def.kind, '', [
      {
        reason: 'FieldValueRequired',
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
      },
    ]);
  }
  const warnings = dropUnknownFields(t.def, o);
  checkTypes(t.def, o, 'metadata');
  validateObject(t.def, o);
  if (store.get(t.def.bucket, t.ns!, o.metadata.name)) {
    throw alreadyExists(t.def.resource, t.def.group, o.metadata.name);
  }
  delete o.metadata.resourceVersion;
  if (t.def.generation === 'always') o.metadata.generation = 1;
  const stored = store.create(t.def.bucket, withoutKind(o));
  return { code: 201, body: withKind(t.def, stored), headers: warningHeader(warnings) };
}

function warningHeader(warnings: string[]): Record<string, string> | undefined {
  return warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : undefined;
}

/** Shared tail of PATCH and PUT: the stored object becomes `next` if it is valid and really changed. */
function commit(store: Store, t: Target, old: Obj, next: Obj, typeErrField: string): Reply {
  checkIdentity(next, t.name, t.ns!);
  if (next.metadata.resourceVersion !== undefined && next.metadata.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(t.def.resource, t.def.group, t.name!);
  }
  const warnings = dropUnknownFields(t.def, next);
  checkTypes(t.def, next, typeErrField);
  for (const f of ['uid', 'creationTimestamp', 'generation', 'resourceVersion', 'deletionTimestamp'] as const) {
    if (old.metadata[f] === undefined) delete next.metadata[f];
    else next.metadata[f] = old.metadata[f] as never;
  }
  if (t.def.hasStatus) {
    if (t.sub === 'status') {
      next.spec = old.spec;
      next.metadata.ownerReferences = old.metadata.ownerReferences;
    } else next.status = old.status;
    if (next.spec === undefined) delete next.spec;
    if (next.status === undefined) delete next.status;
    if (next.metadata.ownerReferences === undefined) delete next.metadata.ownerReferences;
  }
  if (next.metadata.labels && Object.keys(next.metadata.labels).length === 0) delete next.metadata.labels;
  validateObject(t.def, next);
  if (t.def.generation === 'always' && JSON.stringify(next.spec) !== JSON.stringify(old.spec)) {
    next.metadata.generation = (old.metadata.generation ?? 0) + 1;
  }
  const stored = store.update(t.def.bucket, withoutKind(next));
  return { code: 200, body: withKind(t.def, stored), headers: warningHeader(warnings) };
}

export function patch(
  store: Store,
  t: Target,
  contentType: string | undefined,
  q: URLSearchParams,
  raw: string,
): Reply {
  const type = patchTypeOf(contentType);
  if (q.get('force') !== null) {
    throw invalid('PatchOptions.meta.k8s.io', '', [
      { reason: 'FieldValueForbidden', field: 'force', message: 'Forbidden: may not be specified for non-apply patch' },
    ]);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw badRequest('invalid JSON patch');
  }
  const old = store.get(t.def.bucket, t.ns!, t.name!);
  if (!old) throw notFound(t.def.resource, t.def.group, t.name!);
  const next = applyPatch(type, withKind(t.def, old), body) as Obj;
  if (
    typeof next !== 'object' ||
    next === null ||
    Array.isArray(next) ||
    typeof next.metadata !== 'object' ||
    next.metadata === null
  ) {
    throw badRequest('the body of the request was in an unknown format');
  }
  return commit(store, t, old, next, 'patch');
}

export function update(store: Store, t: Target, raw: string): Reply {
  let body: Obj;
  try {
    body = JSON.parse(raw);
  } catch {
    throw badRequest('the body of the request was in an unknown format');
  }
  const old = store.get(t.def.bucket, t.ns!, t.name!);
  if (!old) throw notFound(t.def.resource, t.def.group, t.name!);
  if (typeof body !== 'object' || body === null || !body.metadata) {
    throw badRequest('the body of the request was in an unknown format');
  }
  return commit(store, t, old, body, 'metadata');
}

export function remove(store: Store, t: Target): Reply {
  const o = store.delete(t.def.bucket, t.ns!, t.name!);
  if (!o) throw notFound(t.def.resource, t.def.group, t.name!);
  return { code: 200, body: withKind(t.def, o) };
}
