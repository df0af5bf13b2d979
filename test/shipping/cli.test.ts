// Command-line habits: every error is one line that starts with `launcher:` and ends with where to look; each
// command's --help lists the settings it reads (promote's its exit codes); the version is package.json's; an
// older Node says so in one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { main } from '../../src/cli.ts';
import { REPO } from '../support/cluster.ts';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { ...process.env };
  for (const k of ['POD_NAME', 'HOSTNAME', 'POD_NAMESPACE', 'POD_IP', 'REDIS_POD_SELECTOR']) delete process.env[k];
  try {
    const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join('\n'), err };
  } finally {
    process.env = saved;
  }
}

test('errors: one line, `launcher:` first, the command help last, the exit code the caller needs', async () => {
  const cases: [string[], number, RegExp][] = [
    [['run', '--bogus'], 2, /^launcher: unknown option '--bogus'; see 'launcher run --help'$/],
    [['role'], 2, /^launcher: POD_NAME is not set .*; see 'launcher role --help'$/],
    [['probe', 'sideways'], 2, /^launcher: probe kind "sideways" is invalid: .*; see 'launcher probe --help'$/],
    [['promote', '--', 'a', 'b'], 2, /^launcher: expected 7 arguments .*, got 2; see 'launcher promote --help'$/],
    [['frobnicate'], 2, /^launcher: unknown command 'frobnicate'; see 'launcher --help'$/],
  ];
  for (const [argv, code, re] of cases) {
    const r = await run(...argv);
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.err.join('\n')}`);
    assert.equal(r.err.length, 1, r.err.join('\n'));
    assert.match(r.err[0], re);
  }
});

test('--help lists the settings each command reads; promote lists its exit codes', async () => {
  const help = async (cmd: string) => (await run(cmd, '--help')).out;
  const run_ = await help('run');
  for (const flag of ['--down-after-ms', '--http-port', '--handover-timeout-ms', '--pod-selector']) {
    assert.ok(run_.includes(flag), `run --help lists ${flag}`);
  }
  const promote = await help('promote');
  assert.ok(promote.includes('--pod-selector') && promote.includes('--master-record'));
  for (const flag of ['--down-after-ms', '--http-port', '--handover-timeout-ms', '--redis-server-bin']) {
    assert.ok(!promote.includes(flag), `promote --help does not list ${flag}, which it does not read`);
  }
  assert.match(promote, /Exit codes.*\n\s+0 .*\n\s+1 .*transient.*\n\s+2 .*permanent/);
  const role = await help('role');
  assert.ok(role.includes('--data-dir') && !role.includes('--stop-timeout-ms'));
  // The engines and versions it was tested on, and how the server is found.
  assert.match((await run('--help')).out, /Engines: Redis 7\.0 to 8\.0 and Valkey 8\.0 to 9\.1 \(.*REDIS_SERVER_BIN/);
});

test("the version is package.json's, in --version and the image tag of the manifests", async () => {
  assert.equal((await run('--version')).out.trim(), pkg.version);
  const kustomization = readFileSync(join(REPO, 'manifests/kustomization.yaml'), 'utf8');
  assert.match(kustomization, new RegExp(`newTag: '${pkg.version.replace(/\./g, '\\.')}'`));
});

/** A Node older than 24 on this machine's PATH (the system one), if there is one. */
const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((n) => {
  const v = spawnSync(n, ['--version'], { encoding: 'utf8' });
  return v.status === 0 && Number(v.stdout.slice(1).split('.')[0]) < 24;
});

test(
  'on Node older than 24: one line saying so, not a stack trace',
  { skip: !oldNode && 'no older Node here' },
  async () => {
    for (const entry of ['bin/launcher', 'bin/launcher-promote']) {
      const r = await execa(oldNode ?? 'node', [join(REPO, entry), '--version'], { reject: false });
      assert.notEqual(r.exitCode, 0);
      assert.match(String(r.stderr), /^launcher: Node\.js 24 or newer is needed, this is v\d+/);
      assert.equal(String(r.stderr).trim().split('\n').length, 1, String(r.stderr));
    }
  },
);
