// The engines the tests run besides the machine's Redis 7.0 (Debian 12's redis-server): Valkey 8.0 from
// bookworm-backports, unpacked (never installed: no service starts, nothing on PATH changes) into
// node_modules/.cache by fetchValkey(), which test/support/tools.ts runs. Tests start it with
// REDIS_SERVER_BIN=VALKEY_80.server (Sentinel, CLI and AOF checker are found beside it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CACHE = resolve(import.meta.dirname, '../../node_modules/.cache/redis-ha-launcher');
const VALKEY_80_ROOT = join(CACHE, 'valkey-8.0');
/** Pinned: the matrix says which version it ran (bookworm-backports' only Valkey 8.0 build). */
export const VALKEY_80 = {
  server: join(VALKEY_80_ROOT, 'usr/bin/valkey-server'),
  package: '8.0.1+dfsg1-1~bpo12+1',
};

/** Whether Valkey 8.0 is here to run (fetchValkey ran, or failed and said why). */
export const valkeyMissing = () =>
  existsSync(VALKEY_80.server) ? false : 'Valkey 8.0 is not unpacked (npm test does it)';

const SOURCES = `Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

/**
 * `apt-get download` of valkey-server, valkey-sentinel and valkey-tools 8.0 (pinned) from bookworm-backports, with
 * a source list, package lists and caches of its own, given to apt on the command line (nothing of the machine's
 * apt changes), unpacked with dpkg-deb. Its libraries are bookworm's, as Redis 7.0's. False (saying why) when it
 * cannot.
 */
export function fetchValkey(): boolean {
  if (existsSync(VALKEY_80.server)) return true;
  const work = mkdtempSync(join(tmpdir(), 'rhl-valkey-'));
  const list = join(work, 'backports.sources');
  writeFileSync(list, SOURCES);
  // apt's lists and caches of its own too, in the work directory: nothing under /var changes, no root needed.
  mkdirSync(join(work, 'lists/partial'), { recursive: true });
  mkdirSync(join(work, 'cache/archives/partial'), { recursive: true });
  const apt = [
    ...['-o', `Dir::Etc::sourcelist=${list}`, '-o', 'Dir::Etc::sourceparts=-'],
    ...['-o', `Dir::State::Lists=${join(work, 'lists')}`, '-o', `Dir::Cache=${join(work, 'cache')}`],
  ];
  const run = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const pkgs = ['valkey-server', 'valkey-sentinel', 'valkey-tools'];
  try {
    run('apt-get', [...apt, 'update', '-qq']);
    const r = run('apt-get', [...apt, 'download', '-qq', ...pkgs.map((p) => `${p}=${VALKEY_80.package}`)]);
    const debs = readdirSync(work).filter((f) => f.endsWith('.deb'));
    if (r.status !== 0 || debs.length !== pkgs.length) {
      const why = (r.stderr || '').trim().split('\n').pop() || `exit ${r.status}`;
      process.stderr.write(`cannot get Valkey 8.0 from bookworm-backports (apt-get download: ${why})\n`);
      return false;
    }
    for (const d of debs) {
      if (run('dpkg-deb', ['-x', d, 'root']).status !== 0) {
        process.stderr.write(`cannot unpack ${d} (dpkg-deb -x)\n`);
        return false;
      }
    }
    mkdirSync(CACHE, { recursive: true });
    rmSync(VALKEY_80_ROOT, { recursive: true, force: true });
    renameSync(join(work, 'root'), VALKEY_80_ROOT);
    process.stderr.write(`Valkey 8.0 taken from bookworm-backports (${debs.join(', ')}) into ${VALKEY_80_ROOT}\n`);
    return true;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
