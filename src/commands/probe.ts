// `launcher probe readiness|liveness`: the same checks as /readyz and /healthz, for clusters that prefer exec
// probes. Exit 0 when the check holds, 1 otherwise, with one line saying why.
import type { Config } from '../config.ts';
import type { Kube } from '../kube/api.ts';
import { observe } from '../observe.ts';
import { sentinelReadiness } from '../sentinel-supervisor.ts';
import { redisLiveness, redisReadinessCheck } from '../supervisor.ts';
import { probeOptions } from '../observe.ts';
import { withRedis } from '../redis.ts';

export async function probe(c: Config, kube: Kube, kind: 'readiness' | 'liveness', out: (s: string) => void): Promise<number> {
  let r: { ok: boolean; reason: string };
  if (c.sentinelMode) {
    r = kind === 'readiness' ? await sentinelReadiness(c) : await withRedis({ host: c.listenAddress ?? '127.0.0.1', port: c.sentinelPort }, probeOptions(c), (x) => x.ping())
      .then((p) => ({ ok: p === 'PONG', reason: `Sentinel PING answered ${p}` }), (e: Error) => ({ ok: false, reason: e.message }));
  } else if (kind === 'liveness') {
    r = await redisLiveness(c);
  } else {
    r = await redisReadinessCheck(c, (await observe(c, kube, true)).sentinels);
  }
  out(`${kind}: ${r.ok ? 'ok' : 'not ok'}: ${r.reason}`);
  return r.ok ? 0 : 1;
}
