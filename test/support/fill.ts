// Fills a Redis with `megabytes` of incompressible values through pipelines, so that its AOF/RDB files are that
// large (DEBUG POPULATE is not written to the AOF, and its values compress to nothing).
import { randomBytes } from 'node:crypto';
import { connect } from './redis.ts';

export async function fill(host: string, port: number, megabytes: number, prefix = 'fill'): Promise<number> {
  const r = connect(host, port, { commandTimeout: 60_000 });
  try {
    const perBatch = 1000;
    const value = 1024;
    const total = Math.ceil((megabytes * 1e6) / value);
    for (let i = 0; i < total; i += perBatch) {
      const p = r.pipeline();
      for (let j = i; j < Math.min(total, i + perBatch); j++) {
        p.set(`${prefix}:${j}`, randomBytes(value / 2).toString('hex'));
      }
      await p.exec();
    }
    return total;
  } finally {
    r.disconnect();
  }
}
