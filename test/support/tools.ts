// `npm test` and `npm run sandbox` start here: the machine programs they need (redis-server, redis-sentinel, tini)
// are installed with apt-get when missing and we are root (saying so), else the exact command to run is printed;
// Valkey 8.0 is unpacked from bookworm-backports into node_modules/.cache (engines.ts).
// promtool (the alert tests' rule checker) is taken out of Debian's prometheus package into node_modules/.cache,
// so that no Prometheus server is installed or started on the machine.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMTOOL_CACHE } from './promtool-path.ts';
import { fetchValkey } from './engines.ts';
import { aptCommand, aptInstall, has } from './apt.ts';

const NEEDED = ['redis-server', 'redis-sentinel', 'tini'];
const missing = NEEDED.filter((c) => !has(c));
if (missing.length) {
  const failed = aptInstall(missing);
  const still = NEEDED.filter((c) => !has(c));
  if (still.length) {
    const why = failed ?? `still, after apt-get; install them: ${aptCommand(still)}`;
    process.stderr.write(`missing ${still.join(', ')}: ${why}\n`);
    process.exit(1);
  }
}
if (!has('kubectl')) process.stderr.write('note: kubectl is not installed; the kubectl and manifest tests need it\n');

if (!has('promtool') && !existsSync(PROMTOOL_CACHE)) fetchPromtool();
// The second engine of the matrix (test/engines): Valkey 8.0, unpacked into node_modules/.cache. CI must have it
// (.ci/run sets RHL_REQUIRE_ENGINES); elsewhere (no network to Debian) its tests skip, saying why.
if (!fetchValkey()) {
  if (process.env.RHL_REQUIRE_ENGINES) process.exit(1);
  process.stderr.write('note: the Valkey 8.0 tests (test/engines) will be skipped\n');
}

/** `apt-get download prometheus` (no install, no service) and keep only its promtool binary. */
function fetchPromtool() {
  const work = mkdtempSync(join(tmpdir(), 'rhl-promtool-'));
  const run = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  try {
    let r = run('apt-get', ['download', '-qq', 'prometheus']);
    if (r.status !== 0 && process.getuid?.() === 0) {
      run('apt-get', ['update', '-qq']);
      r = run('apt-get', ['download', '-qq', 'prometheus']);
    }
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (r.status !== 0 || !deb) {
      const why = (r.stderr || '').trim().split('\n').pop() ?? '';
      process.stderr.write(`cannot get promtool (apt-get download prometheus: ${why || `exit ${r.status}`});\n`);
      process.stderr.write('  install it, e.g.: sudo apt-get install --no-install-recommends prometheus\n');
      process.exit(1);
    }
    if (run('dpkg-deb', ['-x', deb, 'x']).status !== 0) {
      process.stderr.write(`cannot unpack ${deb} (dpkg-deb -x)\n`);
      process.exit(1);
    }
    mkdirSync(join(PROMTOOL_CACHE, '..'), { recursive: true });
    copyFileSync(join(work, 'x/usr/bin/promtool'), PROMTOOL_CACHE);
    process.stderr.write(`promtool taken from Debian's ${deb} into ${PROMTOOL_CACHE}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
