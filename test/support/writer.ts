// A plain client that always writes to the pod labelled `redis-role=master` (what a Service selecting that label
// does), counting a write as acknowledged only when WAIT confirms a replica has it.
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { LocalCluster } from './cluster.ts';
import { connect } from './redis.ts';
import { waitFor } from './wait.ts';

let runs = 0;

export class LabelWriter {
  readonly acked: { key: string; at: number }[] = [];
  failures = 0;
  private running = false;
  private loop?: Promise<void>;
  private conns = new Map<string, Redis>();
  private readonly prefix = `w${process.pid}-${runs++}`;
  private readonly c: LocalCluster;

  constructor(c: LocalCluster) { this.c = c; }

  private client(ip: string): Redis {
    let r = this.conns.get(ip);
    if (!r) {
      r = connect(ip, 6379, { commandTimeout: 1000, connectTimeout: 500, maxRetriesPerRequest: 0 });
      this.conns.set(ip, r);
    }
    return r;
  }

  start() {
    this.running = true;
    this.loop = (async () => {
      let n = 0;
      while (this.running) {
        const name = this.c.labelledMasters()[0];
        const pod = name ? [...this.c.pods.values()].find((p) => p.name === name) : undefined;
        const ip = pod && this.c.api.getObject('pods', this.c.ns, pod.name)?.status?.podIP;
        if (!ip) { this.failures++; await new Promise((r) => setTimeout(r, 20)); continue; }
        const key = `${this.prefix}:${n}`;
        try {
          const r = this.client(ip);
          await r.set(key, String(n));
          const acks = Number(await r.call('WAIT', '1', '500'));
          if (acks >= 1) { this.acked.push({ key, at: Date.now() }); n++; } else this.failures++;
        } catch {
          this.failures++;
          this.conns.get(ip)?.disconnect();
          this.conns.delete(ip);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
  }

  async stop() {
    if (!this.running && !this.loop) return;
    this.running = false;
    await this.loop;
    this.loop = undefined;
    for (const r of this.conns.values()) r.disconnect();
    this.conns.clear();
  }

  maxGapMs(): number {
    let gap = 0;
    for (let i = 1; i < this.acked.length; i++) gap = Math.max(gap, this.acked[i].at - this.acked[i - 1].at);
    return gap;
  }

  /** Every acknowledged key is on the current master. */
  async assertAllPresent() {
    const name = await waitFor('one labelled master', () => { const m = this.c.labelledMasters(); return m.length === 1 ? m[0] : undefined; });
    const ip = this.c.api.getObject('pods', this.c.ns, name)!.status.podIP as string;
    const r = connect(ip, 6379);
    try {
      const keys = this.acked.map((a) => a.key);
      const missing: string[] = [];
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        const vals = await r.mget(...chunk);
        chunk.forEach((k, j) => { if (vals[j] === null) missing.push(k); });
      }
      assert.deepEqual(missing, [], `${missing.length} of ${keys.length} acknowledged writes lost`);
    } finally {
      r.disconnect();
    }
  }
}
