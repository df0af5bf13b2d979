// REDIS_TLS_DIR read at start: the cert-manager Secret layout, every file present and PEM, or one line saying which.
import type { Raw } from './parse.ts';
import { ConfigError, type TlsFiles } from './types.ts';

/** REDIS_TLS_DIR: the cert-manager layout (tls.crt, tls.key, ca.crt), each file readable, or one line saying which. */
export function tlsFiles(raw: Raw, read: (f: string) => string): TlsFiles | undefined {
  const authClients = (raw.REDIS_TLS_AUTH_CLIENTS ?? 'no').trim();
  if (!['yes', 'optional', 'no'].includes(authClients)) {
    throw new ConfigError(
      `REDIS_TLS_AUTH_CLIENTS=${JSON.stringify(raw.REDIS_TLS_AUTH_CLIENTS)} is invalid: expected yes, optional or no`,
    );
  }
  const dir = raw.REDIS_TLS_DIR;
  if (!dir) return undefined;
  const file = (name: string) => {
    const path = `${dir.replace(/\/+$/, '')}/${name}`;
    try {
      const text = read(path);
      if (!text.includes('-----BEGIN ')) throw Object.assign(new Error('no PEM block'), { code: 'not PEM' });
      return { path, text };
    } catch (e) {
      throw new ConfigError(
        `REDIS_TLS_DIR=${JSON.stringify(dir)}: ${name} is unreadable or not PEM ` +
          `(${(e as NodeJS.ErrnoException).code ?? 'error'}): expected tls.crt, tls.key and ca.crt`,
      );
    }
  };
  const [cert, key, ca] = [file('tls.crt'), file('tls.key'), file('ca.crt')];
  return {
    dir,
    cert: cert.path,
    key: key.path,
    ca: ca.path,
    authClients: authClients as TlsFiles['authClients'],
    pem: { cert: cert.text, key: key.text, ca: ca.text },
  };
}
