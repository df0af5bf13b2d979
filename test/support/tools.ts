// `npm test` and `npm run sandbox` start here: the machine programs they need (redis-server, redis-sentinel, tini)
// are installed with apt-get when missing and we are root (saying so), else the exact command to run is printed.
import { spawnSync } from 'node:child_process';

const NEEDED = ['redis-server', 'redis-sentinel', 'tini'];
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const missing = NEEDED.filter((c) => !has(c));
if (missing.length) {
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const root = process.getuid?.() === 0;
  if (!root || !has('apt-get')) {
    process.stderr.write(`missing ${missing.join(', ')}: install them first, e.g.\n  sudo ${command}\n`);
    process.exit(1);
  }
  process.stderr.write(`installing ${missing.join(' ')} (apt-get, Debian packages)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...missing],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) {
      process.stderr.write(`apt-get ${args[0]} failed (exit ${r.status}); run it yourself:\n  ${command}\n`);
      process.exit(1);
    }
  }
  const still = NEEDED.filter((c) => !has(c));
  if (still.length) {
    process.stderr.write(`still missing ${still.join(', ')} after apt-get; run:\n  ${command}\n`);
    process.exit(1);
  }
}
if (!has('kubectl')) process.stderr.write('note: kubectl is not installed; the kubectl and manifest tests need it\n');
