// Real containers for `npm run test:containers`: Debian's podman and buildah with the runc runtime (crun refuses
// these machines' cgroup layout), installed with apt-get when missing and we are root. No registry image can be
// pulled here, so the base images are made locally, once per machine (kept in podman's store by tag):
//   localhost/rhl-debian:bookworm-r2          a debootstrap minbase root (Debian's packages, nothing else)
//   localhost/rhl-node:<v>-bookworm-slim-r2   that root plus this Node 24 (the `node` package the project pins) and
//                                             npm from its registry, in /usr/local as node:24-bookworm-slim has them
// and the launcher's image is built from image/Dockerfile as written, its NODE_IMAGE pointed at the local base.
// The build reaches Debian's mirror (RHL_DEBIAN_MIRROR, default deb.debian.org) and the npm registry. `-r<n>`: the
// recipe's version; a base made by an older recipe is not reused.
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { SETTINGS } from '../../src/config/settings.ts';
import { aptInstall, has } from './apt.ts';
import { REPO } from './cluster.ts';

const CACHE = join(REPO, 'node_modules/.cache/rhl-containers');
export const DEBIAN_IMAGE = 'localhost/rhl-debian:bookworm-r2';
export const NODE_IMAGE = `localhost/rhl-node:${process.versions.node}-bookworm-slim-r2`;
const MIRROR = process.env.RHL_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
/** This run's label on every container it starts (test/support/podman-entry.sh), so that cleanup is its own. */
export const RUN_LABEL = `rhl-test=${process.pid}-${Date.now()}`;
export const LAUNCHER_IMAGE = 'localhost/redis-ha-launcher:test';
const TOOLS = { podman: 'podman', buildah: 'buildah', debootstrap: 'debootstrap', runc: 'runc' } as const;

/**
 * podman's settings for these machines: runc, and no default ulimits (the runtime may not raise RLIMIT_NOFILE
 * here: "error setting rlimit type 7"). Every podman and buildah call of the tests runs with it.
 */
function containersConf(): string {
  const file = join(CACHE, 'containers.conf');
  mkdirSync(CACHE, { recursive: true });
  const conf = '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n';
  if (!existsSync(file)) {
    writeFileSync(`${file}.${process.pid}`, conf);
    renameSync(`${file}.${process.pid}`, file);
  }
  return file;
}

/**
 * The environment for podman, buildah and test/support/podman-entry.sh (which passes the launcher's settings on
 * by name: RHL_SETTINGS lists them; RHL_TEST_LABEL labels the containers).
 */
export const containerEnv = (): Record<string, string> => ({
  CONTAINERS_CONF: containersConf(),
  RHL_TEST_LABEL: RUN_LABEL,
  RHL_SETTINGS: SETTINGS.map((x) => x.env).join(' '),
});

/** Why this machine cannot run the container tests, in one line; undefined when it can (installing what is missing). */
export async function containersUnavailable(): Promise<string | undefined> {
  const missing = Object.entries(TOOLS)
    .filter(([, cmd]) => !has(cmd))
    .map(([pkg]) => pkg);
  if (missing.length) {
    const failed = aptInstall(missing);
    if (failed) return `containers: ${missing.join(', ')} missing; ${failed}`;
  }
  if (process.getuid?.() !== 0) return 'containers: the tests run podman as root (rootless podman is not set up here)';
  let base: string;
  try {
    base = await debianImage();
  } catch (e) {
    return `containers: cannot make the Debian base image: ${lastLine((e as Error).message)}`;
  }
  const probe = await execa('podman', ['run', '--rm', '--network', 'none', base, 'true'], {
    env: containerEnv(),
    reject: false,
  });
  if (probe.exitCode !== 0) return `containers: podman cannot run a container here: ${lastLine(probe.stderr)}`;
  return undefined;
}

const lastLine = (s: unknown) => String(s).trim().split('\n').pop() ?? '';

async function imageExists(name: string): Promise<boolean> {
  return (await execa('podman', ['image', 'exists', name], { env: containerEnv(), reject: false })).exitCode === 0;
}

/** localhost/rhl-debian:bookworm-r2, made once: debootstrap --variant=minbase into a temporary root, imported. */
export async function debianImage(): Promise<string> {
  if (await imageExists(DEBIAN_IMAGE)) return DEBIAN_IMAGE;
  const root = mkdtempSync(join(tmpdir(), 'rhl-bookworm-'));
  try {
    process.stderr.write(`making ${DEBIAN_IMAGE} (debootstrap, once per machine)\n`);
    await execa('debootstrap', ['--variant=minbase', 'bookworm', root, MIRROR], { stdin: 'ignore' });
    const pipe = 'set -o pipefail; tar -C "$1" -c . | podman import --quiet - "$2"';
    await execa('bash', ['-c', pipe, 'bash', root, DEBIAN_IMAGE], { env: containerEnv() });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return DEBIAN_IMAGE;
}

/**
 * localhost/rhl-node:<version>-bookworm-slim-r2, made once per Node version: the Debian base with this Node in
 * /usr/local/bin, npm in /usr/local/lib/node_modules/npm (as the official image has them; the launcher's final
 * stage removes npm again), the same npm version as this machine's, from the registry (its published package
 * bundles its dependencies, unlike Debian's npm), and this machine's CA bundle, which npm inside the build needs
 * to reach its registry here.
 */
export async function nodeImage(): Promise<string> {
  if (await imageExists(NODE_IMAGE)) return NODE_IMAGE;
  const env = containerEnv();
  const from = String((await execa('buildah', ['from', await debianImage()], { env })).stdout).trim();
  try {
    const root = String((await execa('buildah', ['mount', from], { env })).stdout).trim();
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    mkdirSync(join(root, 'usr/local/etc'), { recursive: true });
    cpSync(process.execPath, join(root, 'usr/local/bin/node'));
    await unpackNpm(join(root, 'usr/local/lib/node_modules/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
    const ca = '/etc/ssl/certs/ca-certificates.crt';
    if (existsSync(ca)) {
      mkdirSync(join(root, dirname(ca)), { recursive: true });
      cpSync(ca, join(root, ca));
      writeFileSync(join(root, 'usr/local/etc/npmrc'), `cafile=${ca}\n`);
    }
    await execa('buildah', ['umount', from], { env });
    await execa(
      'buildah',
      ['config', '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--cmd', 'node', from],
      { env },
    );
    await execa('buildah', ['commit', '--quiet', from, NODE_IMAGE], { env });
  } finally {
    await execa('buildah', ['rm', from], { env, reject: false });
  }
  return NODE_IMAGE;
}

/** npm, the version this machine runs, from the registry (`npm pack`: the package with its dependencies). */
async function unpackNpm(to: string): Promise<void> {
  const version = String((await execa('npm', ['--version'])).stdout).trim();
  const dir = mkdtempSync(join(tmpdir(), 'rhl-npm-'));
  try {
    await execa('npm', ['pack', '--silent', `npm@${version}`, '--pack-destination', dir], { stdin: 'ignore' });
    mkdirSync(to, { recursive: true });
    await execa('tar', ['-xzf', join(dir, `npm-${version}.tgz`), '-C', to, '--strip-components=1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** image/Dockerfile as written, from the repository as context, its NODE_IMAGE the local base; returns the image. */
export async function buildLauncherImage(tag = LAUNCHER_IMAGE, extra: string[] = []): Promise<string> {
  const base = await nodeImage();
  const r = await execa(
    'buildah',
    [
      ...['bud', '--quiet', '--layers', '--network', 'host'],
      ...['--ignorefile', 'image/Dockerfile.dockerignore', '-f', 'image/Dockerfile'],
      ...['--build-arg', `NODE_IMAGE=${base}`, ...extra, '-t', tag, '.'],
    ],
    { cwd: REPO, env: containerEnv(), reject: false, stdin: 'ignore' },
  );
  if (r.exitCode !== 0) throw new Error(`buildah bud image/Dockerfile failed:\n${String(r.stderr).slice(-3000)}`);
  return tag;
}

/** The launcher-only image (image/Dockerfile's launcher-only stage), for injection onto stock engine images. */
export async function buildLauncherOnlyImage(tag = `${LAUNCHER_IMAGE}-inject`): Promise<string> {
  return buildLauncherImage(tag, ['--target', 'launcher-only']);
}

export type StockEngine = 'redis' | 'valkey';
const STOCK: Record<StockEngine, { image: string; install: string }> = {
  // Debian 12's Redis 7.0 with its programs where the official redis image has them, and no Node.
  redis: {
    image: 'localhost/rhl-stock-redis:7.0-bookworm-r2',
    install: 'apt-get install -y --no-install-recommends redis-server redis-sentinel redis-tools',
  },
  // Valkey 8.0 from bookworm-backports, likewise (valkey/valkey's layout).
  valkey: {
    image: 'localhost/rhl-stock-valkey:8.0-bookworm-r2',
    install:
      `echo "deb ${MIRROR} bookworm-backports main" > /etc/apt/sources.list.d/backports.list` +
      ' && apt-get update -qq && apt-get install -y --no-install-recommends -t bookworm-backports' +
      ' valkey-server valkey-sentinel valkey-tools',
  },
};

/**
 * A root shaped like the official Debian-based engine images: the engine's programs in /usr/local/bin (nothing
 * in /usr/bin), its own non-root user, /data, no Node and no tini. Made once per machine.
 */
export async function stockEngineImage(engine: StockEngine): Promise<string> {
  const { image, install } = STOCK[engine];
  if (await imageExists(image)) return image;
  const env = containerEnv();
  const from = String((await execa('buildah', ['from', await debianImage()], { env })).stdout).trim();
  try {
    const script = [
      'set -e',
      'export DEBIAN_FRONTEND=noninteractive',
      'apt-get update -qq',
      install,
      `for f in /usr/bin/${engine}-*; do mv "$f" /usr/local/bin/; done`,
      `id ${engine} > /dev/null 2>&1 || useradd --system --user-group ${engine}`,
      `mkdir -p /data && chown ${engine}:${engine} /data`,
      'rm -rf /var/lib/apt/lists/*',
    ].join('\n');
    const r = await execa('buildah', ['run', '--network', 'host', from, 'sh', '-c', script], { env, reject: false });
    if (r.exitCode !== 0) throw new Error(`making ${image}: ${String(r.stderr).slice(-2000)}`);
    await execa('buildah', ['config', '--workingdir', '/data', '--cmd', `${engine}-server`, from], { env });
    await execa('buildah', ['commit', '--quiet', from, image], { env });
  } finally {
    await execa('buildah', ['rm', from], { env, reject: false });
  }
  return image;
}

/**
 * What the init container of manifests/components/stock-engine-image does: the launcher-only image copies the
 * launcher into `dir` (the pod's emptyDir), as UID 10001.
 */
export async function injectLauncher(dir: string, image: string): Promise<void> {
  const r = await execa(
    'podman',
    [...['run', '--rm', '--read-only', '--cap-drop=all', '--network', 'none', '-v', `${dir}:/launcher:U`], image],
    { env: containerEnv(), reject: false, stdin: 'ignore' },
  );
  if (r.exitCode !== 0) throw new Error(`the launcher-only image did not install: ${r.stderr}`);
}

/** An image's size in MB as podman reports it. */
export async function imageSizeMB(name: string): Promise<number> {
  const r = await execa('podman', ['image', 'inspect', '--format', '{{.Size}}', name], { env: containerEnv() });
  return Math.round(Number(String(r.stdout).trim()) / 1e6);
}
