// Certificate rotation for Redis: the kubelet replaces a mounted Secret's files in place (a new `..data` link);
// when their content changes, Redis is told to load them again (CONFIG SET of the tls-* files, which Redis 7 always
// re-reads: they are volatile configs) with no restart and no dropped connection, and the launcher's own new
// connections present and trust the new files. Sentinel 7.0 has no CONFIG SET for them: it reads them at start.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Config, TlsFiles } from '../config/types.ts';
import type { Kube } from '../kube/api.ts';
import { emitEvent } from '../kube/events.ts';
import { log } from './log.ts';
import type { Address } from '../model.ts';
import { probeOptions, withRedis } from '../redis/client.ts';

/** The three files' contents and a fingerprint of them; undefined while one is missing or not PEM (mid-swap). */
export async function readTls(t: TlsFiles): Promise<{ pem: TlsFiles['pem']; print: string } | undefined> {
  try {
    const [cert, key, ca] = await Promise.all([t.cert, t.key, t.ca].map((f) => readFile(f, 'utf8')));
    if (![cert, key, ca].every((x) => x.includes('-----BEGIN '))) return undefined;
    return { pem: { cert, key, ca }, print: fingerprint({ cert, key, ca }) };
  } catch {
    return undefined;
  }
}

export const fingerprint = (p: TlsFiles['pem']) =>
  createHash('sha256').update(`${p.cert}\0${p.key}\0${p.ca}`).digest('hex');

/** The CONFIG SET arguments that make Redis load the files again. */
export const tlsReloadArgs = (t: TlsFiles): string[] => [
  'SET',
  'tls-cert-file',
  t.cert,
  'tls-key-file',
  t.key,
  'tls-ca-cert-file',
  t.ca,
];

const TLS_CHECK_MS = 2000;

/**
 * Checked from a supervisor's cycle (at most every 2 s): the TLS files changed (a rotated Secret), so Redis loads
 * them again and the launcher's new connections use them.
 */
export class TlsReloader {
  private print?: string;
  private checkedAt = 0;
  private readonly c: Config;
  private readonly kube: Kube;
  constructor(c: Config, kube: Kube) {
    this.c = c;
    this.kube = kube;
  }

  async check(local: Address): Promise<void> {
    const t = this.c.tls;
    if (!t || Date.now() - this.checkedAt < TLS_CHECK_MS) return;
    this.checkedAt = Date.now();
    const now = await readTls(t);
    if (!now) return;
    // What the launcher read at start (Redis read the files a moment later: a reload then is harmless).
    this.print ??= fingerprint(t.pem);
    if (now.print === this.print) return;
    try {
      await withRedis(local, probeOptions(this.c), (r) => r.call('CONFIG', ...tlsReloadArgs(t)));
    } catch (e) {
      log.warn(`the TLS files in ${t.dir} changed but Redis would not load them: ${(e as Error).message}`);
      return; // tried again at the next check
    }
    this.print = now.print;
    t.pem = now.pem;
    const what = `the TLS files in ${t.dir} changed: Redis loaded them (no restart, connections kept)`;
    log.info(what);
    void emitEvent(this.kube, { name: this.c.podName }, 'Normal', 'TLSReloaded', what);
  }
}
