// Clients that write continuously and count a write as acknowledged only when WAIT confirms a replica has it:
// LabelWriter always writes to the pod labelled `redis-role=master`; ServiceWriter (LabelWriter with
// `service: true`) writes only where a Service selecting that label sends traffic: labelled master AND Ready AND
// not terminating (the pod is in the Service's endpoints); SentinelWriter is a Sentinel-aware ioredis client that
// discovers the master through Sentinel; ClusterWriter writes through a cluster-aware client (Redis Cluster mode).
import assert from 'node:assert/strict';
import { type Cluster, Redis } from 'ioredis';
import type { LocalCluster } from './cluster.ts';
import { connect } from './redis.ts';
import { waitFor } from './wait.ts';

let runs = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

abstract class AckedWriter {
  /** Acknowledged writes; `ip`: the pod address it went to (label/service writers). */
  readonly acked: { key: string; at: number; ip?: string }[] = [];
  /** SETs sent, by pod address (label/service writers). */
  readonly sentTo: Record<string, number> = {};
  failures = 0;
  /** The address client() picked for the current write, when known. */
  protected target?: string;
  private running = false;
  private loop?: Promise<void>;
  protected readonly prefix: string;
  protected readonly c: LocalCluster;

  constructor(c: LocalCluster, kind: string) {
    this.c = c;
    this.prefix = `${kind}${process.pid}-${runs++}`;
  }

  /** The client to write with now, or undefined when there is nowhere to write. */
  protected abstract client(): Redis | undefined;
  protected abstract failed(): void;
  protected abstract close(): void;
  protected succeeded(): void {}

  start() {
    this.running = true;
    this.loop = (async () => {
      let n = 0;
      while (this.running) {
        const r = this.client();
        if (!r) {
          this.failures++;
          await sleep(20);
          continue;
        }
        const key = `${this.prefix}:${n}`;
        const ip = this.target;
        if (ip) this.sentTo[ip] = (this.sentTo[ip] ?? 0) + 1;
        try {
          await r.set(key, String(n));
          if (Number(await r.call('WAIT', '1', '500')) >= 1) {
            this.acked.push({ key, at: Date.now(), ...(ip ? { ip } : {}) });
            n++;
            this.succeeded();
          } else this.failures++;
        } catch {
          this.failures++;
          this.failed();
          await sleep(20);
        }
      }
    })();
  }

  async stop() {
    if (!this.loop) return;
    this.running = false;
    await this.loop;
    this.loop = undefined;
    this.close();
  }

  maxGapMs(): number {
    let gap = 0;
    for (let i = 1; i < this.acked.length; i++) gap = Math.max(gap, this.acked[i].at - this.acked[i - 1].at);
    return gap;
  }

  /** Every acknowledged key is on the current master. */
  async assertAllPresent() {
    const name = await waitFor('one labelled master', () => {
      const m = this.c.labelledMasters();
      return m.length === 1 ? m[0] : undefined;
    });
    const ip = this.c.api.getObject('pods', this.c.ns, name)!.status.podIP as string;
    const keys = this.acked.map((a) => a.key);
    const missing = await missingKeys(ip, keys);
    assert.deepEqual(missing, [], `${missing.length} of ${keys.length} acknowledged writes lost (${this.prefix})`);
  }
}

/**
 * The addresses a Service selecting the set's pods and `redis-role=master` has as endpoints: pods with that
 * label, a podIP, the Ready condition True and no deletionTimestamp (the endpoints controller leaves the rest out).
 */
export function serviceEndpoints(c: LocalCluster, labels: Record<string, string> = { 'redis-role': 'master' }) {
  return c.api
    .listObjects('pods', c.ns)
    .filter(
      (o) =>
        o.metadata.labels?.app === c.sts &&
        Object.entries(labels).every(([k, v]) => o.metadata.labels?.[k] === v) &&
        !o.metadata.deletionTimestamp &&
        o.status?.podIP &&
        o.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'),
    )
    .map((o) => o.status.podIP as string);
}

export type LabelWriterOptions = {
  /** Write only to Service endpoints (labelled master, Ready, not terminating); default: to the master label. */
  service?: boolean;
  /**
   * With `service`: keep the open connection to a backend after it leaves the endpoints until the connection
   * fails, as kube-proxy's conntrack keeps established connections. Default: follow the endpoints per write.
   */
  sticky?: boolean;
};

export class LabelWriter extends AckedWriter {
  private conns = new Map<string, Redis>();
  private lastIp?: string;
  private readonly opts: LabelWriterOptions;

  constructor(c: LocalCluster, opts: LabelWriterOptions = {}) {
    super(c, opts.service ? 'service' : 'label');
    this.opts = opts;
  }

  private pick(): string | undefined {
    if (!this.opts.service) {
      const name = this.c.labelledMasters()[0];
      return name ? (this.c.api.getObject('pods', this.c.ns, name)?.status?.podIP as string | undefined) : undefined;
    }
    if (this.opts.sticky && this.lastIp && this.conns.has(this.lastIp)) return this.lastIp;
    const eps = serviceEndpoints(this.c);
    if (this.lastIp && eps.includes(this.lastIp)) return this.lastIp;
    return eps[Math.floor(Math.random() * eps.length)];
  }

  protected client(): Redis | undefined {
    const ip = this.pick();
    this.target = ip;
    if (!ip) return undefined;
    this.lastIp = ip;
    let r = this.conns.get(ip);
    if (!r) {
      r = connect(ip, 6379, { commandTimeout: 1000, connectTimeout: 500, maxRetriesPerRequest: 0 });
      this.conns.set(ip, r);
    }
    return r;
  }

  protected failed() {
    if (!this.lastIp) return;
    this.conns.get(this.lastIp)?.disconnect();
    this.conns.delete(this.lastIp);
  }

  protected close() {
    for (const r of this.conns.values()) r.disconnect();
    this.conns.clear();
  }
}

/** A client of a Service selecting `redis-role=master`: only Ready, non-terminating master-labelled pods. */
export class ServiceWriter extends LabelWriter {
  constructor(c: LocalCluster, opts: { sticky?: boolean } = {}) {
    super(c, { ...opts, service: true });
  }
}

export class SentinelWriter extends AckedWriter {
  private r?: Redis;
  private streak = 0;

  constructor(c: LocalCluster) {
    super(c, 'sentinel');
  }

  protected client(): Redis {
    if (!this.r) {
      // Like resolving a Sentinel Service: the addresses of the Sentinel pods now.
      const sentinels = this.c.ordinals.map((i) => ({ host: this.c.pod(i).ip, port: 26379 }));
      this.r = new Redis({
        sentinels,
        name: 'mymaster',
        role: 'master',
        commandTimeout: 1000,
        connectTimeout: 500,
        maxRetriesPerRequest: 0,
        sentinelRetryStrategy: (times: number) => Math.min(times * 50, 500),
        failoverDetector: true,
        disableClientInfo: true,
      });
      this.r.on('error', () => {});
    }
    return this.r;
  }

  protected succeeded() {
    this.streak = 0;
  }

  protected failed() {
    // After 40 failures in a row (e.g. every Sentinel IP changed) start over from the current Sentinel addresses.
    if (++this.streak >= 40) {
      this.streak = 0;
      this.close();
    }
  }

  protected close() {
    this.r?.disconnect();
    this.r = undefined;
  }
}

/**
 * A client that keeps writing to one address whatever the labels say (a client on the old master's side of a
 * partition, or an open connection kube-proxy keeps): every write answered OK, and those WAIT then confirmed on
 * a replica, with when the server first refused a write (e.g. NOREPLICAS under min-replicas-to-write).
 */
export class PinnedWriter {
  readonly ok: { key: string; at: number }[] = [];
  readonly confirmed: string[] = [];
  readonly refusals: { at: number; error: string }[] = [];
  private running = false;
  private loop?: Promise<void>;
  private readonly prefix: string;
  private readonly r: Redis;

  private readonly wait: boolean;

  /**
   * `wait: false`: no WAIT at all (a client that trusts OK; nothing is ever confirmed), so writes go back to back.
   * `prefix`: of every key (e.g. a hash tag, to keep a cluster client's keys on one shard).
   */
  constructor(ip: string, port = 6379, opts: { wait?: boolean; prefix?: string } = {}) {
    this.r = connect(ip, port, { commandTimeout: 1000, connectTimeout: 500, maxRetriesPerRequest: 0 });
    this.wait = opts.wait ?? true;
    this.prefix = opts.prefix ?? `pinned${process.pid}-${runs++}`;
  }

  start() {
    this.running = true;
    this.loop = (async () => {
      for (let n = 0; this.running; n++) {
        const key = `${this.prefix}:${n}`;
        try {
          await this.r.set(key, String(n));
          this.ok.push({ key, at: Date.now() });
          if (this.wait && Number(await this.r.call('WAIT', '1', '100')) >= 1) this.confirmed.push(key);
        } catch (e) {
          this.refusals.push({ at: Date.now(), error: String((e as Error).message).split(' ')[0] });
          await sleep(20);
        }
      }
    })();
  }

  async stop() {
    this.running = false;
    await this.loop;
    this.r.disconnect();
  }

  /** The first refusal at or after `since` (ms), if any. */
  firstRefusal(since: number) {
    return this.refusals.find((f) => f.at >= since);
  }
}

/** Of `keys`, those the Redis at ip does not have (MGET in chunks of 1000). */
export async function missingKeys(ip: string, keys: string[]): Promise<string[]> {
  const r = connect(ip, 6379);
  try {
    const out: string[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const vals = await r.mget(...chunk);
      chunk.forEach((k, j) => {
        if (vals[j] === null) out.push(k);
      });
    }
    return out;
  } finally {
    r.disconnect();
  }
}

/**
 * Numbered writes over one given client (any ioredis client: plain, TLS, Sentinel-aware), each counted only when
 * `WAIT 1` confirms it; failures are kept with their message. stop() ends the loop and waits for it.
 */
export class ClientWriter {
  readonly acked: string[] = [];
  readonly failed: string[] = [];
  private writing = true;
  private readonly loop: Promise<void>;

  constructor(client: Redis, prefix = 'k') {
    this.loop = (async () => {
      for (let n = 0; this.writing; n++) {
        const key = `${prefix}${n}`;
        try {
          await client.set(key, String(n));
          if (Number(await client.call('WAIT', '1', '1000')) >= 1) this.acked.push(key);
        } catch (e) {
          this.failed.push(`${key}: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.writing = false;
    await this.loop;
  }
}

/**
 * Writes numbered keys through a cluster-aware client while the test goes on: each SET is pipelined with WAIT 1
 * (ioredis sends the pipeline to the key's master), and a write counts only when a replica acknowledged it.
 * stop() does not wait for the write in flight: ioredis never settles a cluster pipeline queued while no node
 * answers once the client is disconnected (after a failed assertion the pods are stopped first), and that write is
 * simply not counted.
 */
export class ClusterWriter {
  readonly confirmed: string[] = [];
  /** When each confirmed write was confirmed (Date.now()), in order. */
  readonly confirmedAt: number[] = [];
  failures = 0;
  private running = true;
  private readonly stopped = Promise.withResolvers<undefined>();
  private readonly done: Promise<void>;
  constructor(client: Cluster) {
    this.done = (async () => {
      for (let n = 0; this.running; n++) {
        const key = `live:${n}`;
        try {
          const write = client.pipeline().set(key, String(n)).call('WAIT', '1', '200').exec();
          write.catch(() => {}); // settles after stop(), if ever
          const r = await Promise.race([write, this.stopped.promise]);
          if (!this.running) break;
          if (r && !r[0][0] && Number(r[1][1]) >= 1) {
            this.confirmed.push(key);
            this.confirmedAt.push(Date.now());
          } else this.failures++;
        } catch {
          this.failures++;
          await new Promise((x) => setTimeout(x, 50));
        }
      }
    })();
  }
  /** The longest time between two confirmed writes. */
  maxGapMs(): number {
    let gap = 0;
    for (let i = 1; i < this.confirmedAt.length; i++) {
      gap = Math.max(gap, this.confirmedAt[i] - this.confirmedAt[i - 1]);
    }
    return gap;
  }
  async stop() {
    this.running = false;
    this.stopped.resolve(undefined);
    await this.done;
  }
}
