// Injected API faults: chosen requests fail with the Status kube-apiserver would send, or are answered late.
//
// A rule matches on method, path, query and body. A matching request with `status` is rejected and not applied
// (as kube-apiserver rejects it in authorization, admission or storage). A matching request with only `delayMs`
// is held: by default it is applied at once and its reply is held (`delayWhen: 'reply'`, what a slow apiserver or
// network does: the write is in etcd and visible to watchers while the client still waits, and still applied when
// the client gives up); `delayWhen: 'request'` holds it before it is applied (it reaches the apiserver late).
import { ApiError, conflict, forbidden, notFound, unauthorized } from './status.ts';

export type RequestInfo = { method: string; path: string; query: URLSearchParams; body: string };

export type FaultRule = {
  /** HTTP method(s), case-insensitive; any when unset. */
  method?: string | string[];
  /** The URL path (no query): a RegExp, or an exact string. */
  path?: RegExp | string;
  /** The request body: a RegExp, or a substring it must contain. */
  body?: RegExp | string;
  /** Any further condition. */
  match?: (r: RequestInfo) => boolean;
  /** Reject with this HTTP code and a kube-apiserver Status body (reason, message and details as kube sends). */
  status?: number;
  /** Override the Status reason / message. */
  reason?: string;
  message?: string;
  /** Hold the reply (or the request, see delayWhen) this long. */
  delayMs?: number;
  /** 'reply' (default): applied at once, answered after delayMs. 'request': applied and answered after delayMs. */
  delayWhen?: 'reply' | 'request';
  /** With delayMs: the hold ends as soon as this is true (polled), and after delayMs at the latest. */
  until?: () => boolean;
  /** How many matching requests the rule acts on; then it stays listed but inert. Default: every one. */
  times?: number;
};

/** A rule in force: counts what it matched and acted on. */
export class Fault {
  readonly rule: FaultRule;
  /** Requests that matched the rule's pattern (also those after `times` ran out or an earlier rule took). */
  seen = 0;
  /** Requests the rule acted on (failed or delayed). */
  hits = 0;
  /** When each acted-on request arrived (Date.now()). */
  readonly hitTimes: number[] = [];
  removed = false;
  private readonly owner: Faults;
  constructor(owner: Faults, rule: FaultRule) {
    this.owner = owner;
    this.rule = rule;
  }
  /** Removed, or its `times` used up: it acts no more. */
  get spent() {
    return this.removed || this.hits >= (this.rule.times ?? Infinity);
  }
  remove() {
    this.owner.remove(this);
  }
}

export class Faults {
  private rules: Fault[] = [];

  /** Adds a rule; the first live rule (in the order added) that matches a request acts on it. */
  add(rule: FaultRule): Fault {
    const f = new Fault(this, rule);
    this.rules.push(f);
    return f;
  }

  remove(f: Fault) {
    f.removed = true;
    this.rules = this.rules.filter((x) => x !== f);
  }

  clear() {
    for (const f of this.rules) f.removed = true;
    this.rules = [];
  }

  get size() {
    return this.rules.length;
  }

  get list(): readonly Fault[] {
    return this.rules;
  }

  /** The rule that acts on this request, if any; counts it. */
  take(r: RequestInfo): FaultRule | undefined {
    let taken: Fault | undefined;
    for (const f of this.rules) {
      if (!matches(f.rule, r)) continue;
      f.seen++;
      if (!taken && !f.spent) {
        f.hits++;
        f.hitTimes.push(Date.now());
        taken = f;
      }
    }
    return taken?.rule;
  }
}

const matchText = (m: RegExp | string, s: string, exact: boolean) =>
  typeof m === 'string' ? (exact ? s === m : s.includes(m)) : m.test(s);

function matches(rule: FaultRule, r: RequestInfo): boolean {
  if (rule.method !== undefined) {
    const ms = (Array.isArray(rule.method) ? rule.method : [rule.method]).map((m) => m.toUpperCase());
    if (!ms.includes(r.method.toUpperCase())) return false;
  }
  if (rule.path !== undefined && !matchText(rule.path, r.path, true)) return false;
  if (rule.body !== undefined && !matchText(rule.body, r.body, false)) return false;
  return !rule.match || rule.match(r);
}

/** What kube-apiserver's RequestInfo resolver makes of a resource URL: verb, resource, group, namespace, name. */
export function describe(r: RequestInfo) {
  const parts = r.path.split('/').filter(Boolean).map(decodeURIComponent);
  let rest: string[] = [];
  let group = '';
  if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1];
    rest = parts.slice(3);
  }
  let ns = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    ns = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name, sub] = rest;
  const watch = r.query.get('watch') === 'true' || r.query.get('watch') === '1';
  const verbs: Record<string, string> = { POST: 'create', PATCH: 'patch', PUT: 'update', DELETE: 'delete' };
  const verb =
    r.method === 'GET' ? (watch ? 'watch' : name === undefined ? 'list' : 'get') : (verbs[r.method] ?? 'unknown');
  return { verb, resource: sub ? `${resource}/${sub}` : resource, group, ns, name };
}

/** Headers kube-apiserver adds to these failures. */
export const faultHeaders = (code: number): Record<string, string> | undefined =>
  code === 429 || code === 503 ? { 'Retry-After': '1' } : undefined;

/** The error kube-apiserver sends for `code` on this request (apimachinery pkg/api/errors shapes). */
export function faultError(rule: FaultRule, r: RequestInfo, user: string): ApiError {
  const code = rule.status ?? 500;
  const d = describe(r);
  const base = d.resource.split('/')[0];
  const made = ((): ApiError => {
    switch (code) {
      case 401:
        return unauthorized();
      case 403:
        return forbidden(user, d.verb, d.resource, d.group, d.ns, d.name);
      case 404:
        return notFound(base, d.group, d.name ?? '');
      case 409:
        return conflict(base, d.group, d.name ?? '');
      case 410:
        return new ApiError(410, 'Expired', 'too old resource version: 1 (2)');
      case 429:
        return new ApiError(429, 'TooManyRequests', 'Too many requests, please try again later.', {
          retryAfterSeconds: 1,
        });
      case 500:
        return new ApiError(500, 'InternalError', 'Internal error occurred: injected fault', {
          causes: [{ message: 'injected fault' }],
        });
      case 503:
        return new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', {});
      case 504:
        return new ApiError(
          504,
          'Timeout',
          'Timeout: request did not complete within requested timeout - context deadline exceeded',
          {},
        );
      default:
        return new ApiError(
          code,
          'Unknown',
          `the server responded with the status code ${code} but did not return more information`,
          {},
        );
    }
  })();
  if (rule.reason === undefined && rule.message === undefined) return made;
  const s = made.status;
  return new ApiError(code, rule.reason ?? s.reason, rule.message ?? s.message, s.details);
}
