// What the test scripts need from the machine: whether a program is on PATH, and Debian packages installed with
// apt-get when they are missing and we are root. One home for both: test/support/tools.ts (npm test, the sandbox)
// and test/support/containers.ts (podman, buildah) install through it.
import { spawnSync } from 'node:child_process';

/** The program is on PATH. */
export const has = (cmd: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** The apt-get command a user would run by hand to install these packages. */
export const aptCommand = (packages: string[]): string =>
  `sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}'`;

/**
 * Installs Debian packages with apt-get (as root, non-interactive, apt's output on stderr); undefined when it
 * worked, else one line saying why not.
 */
export function aptInstall(packages: string[]): string | undefined {
  if (!has('apt-get')) return `no apt-get here: install ${packages.join(', ')} with this system's package manager`;
  if (process.getuid?.() !== 0) return `not root, so not installed here; install them: ${aptCommand(packages)}`;
  process.stderr.write(`installing ${packages.join(' ')} (apt-get, Debian packages)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 2, 'inherit'], env });
    if (r.status !== 0) {
      const why = r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`);
      return `apt-get ${args[0]} failed (${why}); run it yourself: ${aptCommand(packages)}`;
    }
  }
  return undefined;
}
