// In-memory object store with one global resourceVersion, a bounded change history and watchers.
import { randomUUID } from 'node:crypto';
import type { Obj } from './resources.ts';

export type Change = { rv: number; bucket: string; ns: string; name: string; prev?: Obj; cur?: Obj };
type Listener = (c: Change) => void;

/** RFC 3339, whole seconds, UTC, as kube-apiserver writes metav1.Time. */
export const kubeTime = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const key = (bucket: string, ns: string, name: string) => `${bucket}\u0000${ns}\u0000${name}`;

export class Store {
  rv = 1;
  readonly namespaces = new Set<string>(['default', 'kube-system']);
  private readonly objects = new Map<string, Obj>();
  readonly history: Change[] = [];
  private readonly listeners = new Set<Listener>();
  readonly historyLimit: number;
  constructor(historyLimit = 10_000) {
    this.historyLimit = historyLimit;
  }

  get(bucket: string, ns: string, name: string): Obj | undefined {
    const o = this.objects.get(key(bucket, ns, name));
    return o && structuredClone(o);
  }

  /** Objects of a bucket (one namespace, or all when ns is undefined), sorted by namespace then name. */
  list(bucket: string, ns?: string): Obj[] {
    const out: Obj[] = [];
    for (const [k, o] of this.objects) {
      const [b, n] = k.split('\u0000');
      if (b === bucket && (ns === undefined || n === ns)) out.push(structuredClone(o));
    }
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return out.sort(
      (a, b) => cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name, b.metadata.name),
    );
  }

  /** Stores a new object: server-set uid, resourceVersion, creationTimestamp. */
  create(bucket: string, obj: Obj): Obj {
    const ns = obj.metadata.namespace ?? '';
    const o = structuredClone(obj);
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = kubeTime();
    return this.write(bucket, ns, o.metadata.name, o);
  }

  /** Replaces a stored object if it really changed; returns the stored object (RV unchanged on no-op). */
  update(bucket: string, obj: Obj): Obj {
    const ns = obj.metadata.namespace ?? '';
    const old = this.objects.get(key(bucket, ns, obj.metadata.name));
    const o = structuredClone(obj);
    if (old) {
      o.metadata.resourceVersion = old.metadata.resourceVersion;
      if (JSON.stringify(canonical(o)) === JSON.stringify(canonical(old))) return structuredClone(old);
    }
    return this.write(bucket, ns, o.metadata.name, o);
  }

  delete(bucket: string, ns: string, name: string): Obj | undefined {
    const k = key(bucket, ns, name);
    const old = this.objects.get(k);
    if (!old) return undefined;
    this.objects.delete(k);
    const rv = ++this.rv;
    const last = structuredClone(old);
    last.metadata.resourceVersion = String(rv);
    this.emit({ rv, bucket, ns, name, prev: old, cur: undefined });
    return last;
  }

  private write(bucket: string, ns: string, name: string, o: Obj): Obj {
    const k = key(bucket, ns, name);
    const prev = this.objects.get(k);
    const rv = ++this.rv;
    o.metadata.resourceVersion = String(rv);
    this.objects.set(k, o);
    this.emit({ rv, bucket, ns, name, prev, cur: o });
    return structuredClone(o);
  }

  private emit(c: Change) {
    this.history.push(c);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const l of this.listeners) l(c);
  }

  /** Oldest RV from which a watch can still resume without 410. */
  oldestResumable(): number {
    return this.history.length ? this.history[0].rv - 1 : this.rv;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** Deterministic key order so that no-op detection compares content, not insertion order. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
