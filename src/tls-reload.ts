// Certificate rotation for Redis: the kubelet replaces a mounted Secret's files in place (a new `..data` link);
// when their content changes, Redis is told to load them again (CONFIG SET of the tls-* files, which Redis 7 always
// re-reads: they are volatile configs) with no restart and no dropped connection, and the launcher's own new
// connections present and trust the new files. Sentinel 7.0 has no CONFIG SET for them: it reads them at start.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { TlsFiles } from './config.ts';

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
