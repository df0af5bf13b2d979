// The engine builds the tests run. Redis 7.0 is the machine's (Debian 12's redis-server). The others are Debian
// packages taken with `apt-get download` and unpacked (never installed: no service starts, nothing on PATH or in
// the machine's apt changes) into node_modules/.cache:
// - Valkey 8.0 from bookworm-backports, which runs on this machine's C library; `npm test` runs it (tools.ts).
// - Redis 8.0 and Valkey 8.1 from trixie, Redis 8.0 and Valkey 9.1 from sid, for `npm run compat`. They need a newer
//   C library than bookworm's, so each build is unpacked with its suite's libraries beside it (libc6 and what the
//   engine links), and its programs are run through that root's own dynamic loader: for each program a two-line
//   wrapper in its bin/ that `exec`s `ld-linux-x86-64.so.2 --library-path <root's libs> --argv0 "$0" <program>`.
//   `exec` keeps the PID (signals reach the server itself); `--argv0` keeps the name the engine reads its mode from
//   (valkey-sentinel, redis-check-aof); `--library-path`, unlike LD_LIBRARY_PATH, is not inherited by what the
//   server starts (Sentinel's client-reconfig-script runs on the machine's libraries). No chroot, no root needed.
// Tests start a build with REDIS_SERVER_BIN=build.server (Sentinel, CLI and AOF checker are found beside it).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const CACHE = resolve(import.meta.dirname, '../../node_modules/.cache/redis-ha-launcher');
const LIBS = 'usr/lib/x86_64-linux-gnu';

/** One engine build the tests can run. */
export interface EngineBuild {
  /** What the matrix calls it, e.g. "valkey 9.1 (sid)". */
  label: string;
  family: 'redis' | 'valkey';
  /** The server to give as REDIS_SERVER_BIN. */
  server: string;
  /** Where it comes from, for the table and the messages. */
  source: string;
  /** The Debian suite and packages it is unpacked from; none for the machine's own Redis. */
  fetch?: { suite: string; packages: string[]; ownLibc: boolean; dir: string };
}

const unpacked = (
  id: string,
  family: 'redis' | 'valkey',
  suite: string,
  version: string,
  ownLibc: boolean,
): EngineBuild => {
  const dir = join(CACHE, id);
  const pkgs = ['server', 'sentinel', 'tools'].map((p) => `${family}-${p}`);
  return {
    label: `${family} ${id.split('-')[1]} (${suite})`,
    family,
    server: ownLibc ? join(dir, 'bin', `${family}-server`) : join(dir, 'usr/bin', `${family}-server`),
    source: `Debian ${suite}`,
    fetch: { suite, packages: pkgs.map((p) => (version ? `${p}=${version}` : `${p}/${suite}`)), ownLibc, dir },
  };
};

/** Pinned: bookworm-backports' only Valkey 8.0 build. */
export const VALKEY_80 = unpacked('valkey-8.0', 'valkey', 'bookworm-backports', '8.0.1+dfsg1-1~bpo12+1', false);
export const REDIS_70: EngineBuild = {
  label: 'redis 7.0 (bookworm)',
  family: 'redis',
  server: 'redis-server',
  source: 'the machine (Debian 12)',
};

/** Every build of the compatibility matrix (`npm run compat`), oldest first. Newer suites: their current build. */
export const BUILDS: EngineBuild[] = [
  REDIS_70,
  VALKEY_80,
  unpacked('redis-8.0', 'redis', 'trixie', '', true),
  unpacked('valkey-8.1', 'valkey', 'trixie', '', true),
  unpacked('redis-8.0-sid', 'redis', 'sid', '', true),
  unpacked('valkey-9.1', 'valkey', 'sid', '', true),
];

/**
 * The build a name picks (the sandbox's --engine): `redis` or `valkey` alone is the family's first build (Redis 7.0,
 * Valkey 8.0); with a version (`valkey-9.1`, `redis-8.0`) the newest build of that version; undefined if none.
 */
export function pickBuild(name: string): EngineBuild | undefined {
  const m = /^(redis|valkey)(?:-(\d+\.\d+))?$/.exec(name);
  if (!m) return undefined;
  const of = BUILDS.filter((b) => b.family === m[1] && (!m[2] || b.label.startsWith(`${m[1]} ${m[2]} `)));
  return m[2] ? of.at(-1) : of[0];
}

/** The build's CLI (redis-cli, valkey-cli), beside its server. */
export const cliOf = (b: EngineBuild) =>
  b.server.includes('/') ? join(dirname(b.server), `${b.family}-cli`) : `${b.family}-cli`;

/** Whether Valkey 8.0 is here to run (fetchValkey ran, or failed and said why). */
export const valkeyMissing = () =>
  existsSync(VALKEY_80.server) ? false : 'Valkey 8.0 is not unpacked (npm test does it)';

/** What a build with its own C library needs beside its packages (what its programs link, and theirs). */
const LIBRARIES = [
  ...['libc6', 'libatomic1', 'libjemalloc2', 'liblzf1', 'libssl3t64', 'libstdc++6', 'libgcc-s1'],
  ...['libsystemd0', 'libcap2', 'zlib1g', 'libzstd1'],
];

const sources = (suite: string) => `Types: deb
URIs: http://deb.debian.org/debian
Suites: ${suite}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

export const fetchValkey = () => fetchBuild(VALKEY_80);

/**
 * `apt-get download` of a build's packages (and, for a newer suite, its libraries) with a source list, package lists
 * and caches of its own given to apt on the command line, unpacked with dpkg-deb; for a newer suite, a wrapper per
 * program (see the top). True when it is there; false, saying why, when it cannot be had.
 */
export function fetchBuild(b: EngineBuild): boolean {
  if (!b.fetch || existsSync(b.server)) return true;
  const { suite, packages, ownLibc, dir } = b.fetch;
  const work = mkdtempSync(join(tmpdir(), 'rhl-engine-'));
  const list = join(work, 'engine.sources');
  writeFileSync(list, sources(suite));
  mkdirSync(join(work, 'lists/partial'), { recursive: true });
  mkdirSync(join(work, 'cache/archives/partial'), { recursive: true });
  const apt = [
    ...['-o', `Dir::Etc::sourcelist=${list}`, '-o', 'Dir::Etc::sourceparts=-'],
    ...['-o', `Dir::State::Lists=${join(work, 'lists')}`, '-o', `Dir::Cache=${join(work, 'cache')}`],
    // The machine's dpkg status would let apt pick bookworm's installed versions for "pkg/suite"; this one is empty.
    ...['-o', `Dir::State::status=${join(work, 'status')}`],
  ];
  writeFileSync(join(work, 'status'), '');
  const run = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wanted = [...packages, ...(ownLibc ? LIBRARIES.map((l) => `${l}/${suite}`) : [])];
  try {
    run('apt-get', [...apt, 'update', '-qq']);
    const r = run('apt-get', [...apt, 'download', '-qq', ...wanted]);
    const debs = readdirSync(work).filter((f) => f.endsWith('.deb'));
    if (r.status !== 0 || debs.length !== wanted.length) {
      const why = (r.stderr || '').trim().split('\n').pop() || `exit ${r.status}`;
      process.stderr.write(`cannot get ${b.label} from Debian ${suite} (apt-get download: ${why})\n`);
      return false;
    }
    for (const d of debs) {
      if (run('dpkg-deb', ['-x', d, 'root']).status !== 0) {
        process.stderr.write(`cannot unpack ${d} (dpkg-deb -x)\n`);
        return false;
      }
    }
    if (ownLibc) writeWrappers(join(work, 'root'), dir);
    mkdirSync(CACHE, { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(work, 'root'), dir);
    const found = debs.filter((d) => d.startsWith(`${b.family}-server`)).join('');
    process.stderr.write(`${b.label} taken from Debian ${suite} (${found}) into ${dir}\n`);
    return true;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** bin/<program> for each engine program: run through the root's own loader and libraries (final paths: `dir`). */
function writeWrappers(root: string, dir: string) {
  mkdirSync(join(root, 'bin'));
  const loader = join(dir, LIBS, 'ld-linux-x86-64.so.2');
  for (const name of readdirSync(join(root, 'usr/bin'))) {
    const wrapper = join(root, 'bin', name);
    const line = `exec ${loader} --library-path ${join(dir, LIBS)} --argv0 "$0" ${join(dir, 'usr/bin', name)} "$@"`;
    writeFileSync(wrapper, `#!/bin/sh\n${line}\n`);
    chmodSync(wrapper, 0o755);
  }
}
