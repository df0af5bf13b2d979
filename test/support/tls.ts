// Certificates for tests, made with openssl as an operator (or cert-manager) would: a throw-away CA and a
// certificate it signs, written in cert-manager's Secret layout (tls.crt, tls.key, ca.crt), the key 0600.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as connectTls } from 'node:tls';
import { join } from 'node:path';

const openssl = (cwd: string, ...args: string[]) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

export type Ca = { dir: string; key: string; crt: string };

/** A new CA in `dir` (ca.key, ca.crt). */
export function makeCa(dir: string, name = 'redis-ha-test-ca'): Ca {
  mkdirSync(dir, { recursive: true });
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  );
  return { dir, key: join(dir, 'ca.key'), crt: join(dir, 'ca.crt') };
}

/**
 * A certificate signed by `ca` for server and client use, written to `out` as tls.crt / tls.key / ca.crt (the
 * CA bundle: `caBundle` when given, else the signing CA); returns `out`.
 */
export function issue(ca: Ca, out: string, opts: { cn?: string; caBundle?: string } = {}): string {
  mkdirSync(out, { recursive: true });
  const cn = opts.cn ?? 'redis';
  openssl(out, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${cn}`);
  writeFileSync(join(out, 'ext'), `subjectAltName=DNS:${cn}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(
    out,
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    ca.crt,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    'tls.crt',
    '-days',
    '2',
    '-extfile',
    'ext',
  );
  chmodSync(join(out, 'tls.key'), 0o600);
  writeFileSync(join(out, 'ca.crt'), opts.caBundle ?? readFileSync(ca.crt, 'utf8'));
  return out;
}

/** The files as ioredis' `tls` options want them (the peer's name not checked, as the launcher does). */
export function clientTls(dir: string) {
  return {
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    cert: readFileSync(join(dir, 'tls.crt'), 'utf8'),
    key: readFileSync(join(dir, 'tls.key'), 'utf8'),
    checkServerIdentity: () => undefined,
  };
}

let generation = 0;

/**
 * Puts the files of `from` (tls.crt, tls.key, ca.crt) into `dir` as the kubelet projects a Secret volume: a new
 * timestamped directory, the `..data` link swapped to it in one rename, and `dir/<file>` links through `..data`.
 * Called again, it is the kubelet's update of a rotated Secret: every file changes at once.
 */
export function projectSecret(dir: string, from: string): string {
  mkdirSync(dir, { recursive: true });
  const gen = `..${Date.now()}_${generation++}`;
  mkdirSync(join(dir, gen));
  for (const f of ['tls.crt', 'tls.key', 'ca.crt']) {
    writeFileSync(join(dir, gen, f), readFileSync(join(from, f)), { mode: 0o600 });
  }
  symlinkSync(gen, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const f of ['tls.crt', 'tls.key', 'ca.crt']) {
    if (!existsSync(join(dir, f))) symlinkSync(join('..data', f), join(dir, f));
  }
  return dir;
}

/** The SHA-256 fingerprint of the certificate a TLS server at host:port presents now (a new connection). */
export function servedCertificate(host: string, port: number, tls: ReturnType<typeof clientTls>): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connectTls({ host, port, ...tls }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.once('error', reject);
    s.setTimeout(3000, () => s.destroy(new Error('TLS handshake timed out')));
  });
}

/** ioredis' view of a certificate file's fingerprint, to compare with servedCertificate(). */
export function fingerprintOf(crtFile: string): string {
  return new X509Certificate(readFileSync(crtFile)).fingerprint256;
}
