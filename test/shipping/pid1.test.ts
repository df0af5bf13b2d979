// PID 1 duties: signals forwarded to the child, its exit code passed on (128 + signal when killed), SIGKILL after
// the stop timeout, and orphans reaped by tini in front of the launcher (what the image runs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { execa } from 'execa';
import { REPO } from '../support/cluster.ts';
import { startProcess, stopAll } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

const driver = join(REPO, 'test/support/supervise-driver.ts');
after(() => stopAll());
/** The driver as a process-group leader; its whole group is killed after the file, also a child it left behind. */
function driverProcess(args: string[]) {
  const p = startProcess('driver', process.execPath, [driver, ...args], { group: true });
  after(() => {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  });
  return p;
}
const run = (script: string, stopMs = 5000) => driverProcess([String(stopMs), script]);

let marks = 0;
/**
 * A child shell script that says, in a file of its own, when its trap is set: a SIGTERM that reached the shell
 * before it read `trap` would kill it by the signal and say nothing about the launcher. ready() polls that file.
 */
function trapped(trap: string): { script: string; ready: () => Promise<unknown> } {
  const mark = join(tmpdir(), `pid1-${process.pid}-${marks++}`);
  after(() => rmSync(mark, { force: true }));
  return {
    script: `${trap}; echo up > ${mark}; while true; do sleep 0.05; done`,
    ready: () => waitFor('the child shell running its loop, its trap set', () => existsSync(mark), 30_000),
  };
}

test('SIGTERM is forwarded to the child; a child that exits 0 on TERM makes the launcher exit 0', async () => {
  const child = trapped("trap 'exit 0' TERM");
  const p = run(child.script);
  await child.ready();
  p.signalLeader('SIGTERM');
  assert.equal((await p.exited).exitCode, 0);
});

test('SIGTERM the moment the child has started is forwarded too (five times)', async () => {
  // execa returns a while after it has spawned the child: a signal in that window once ended the launcher itself.
  for (let i = 0; i < 5; i++) {
    const child = trapped("trap 'exit 0' TERM");
    const p = run(child.script);
    await child.ready();
    p.signalLeader('SIGTERM');
    assert.equal((await p.exited).exitCode, 0, `run ${i}: ${p.tail.join('\n')}`);
  }
});

test('a child killed by a signal gives 128 + signal; plain exit codes pass through', async () => {
  assert.equal((await run('kill -9 $$').exited).exitCode, 137);
  assert.equal((await run('exit 3').exited).exitCode, 3);
});

test('a child that ignores SIGTERM is SIGKILLed after the stop timeout (137)', async () => {
  const child = trapped("trap '' TERM");
  const p = run(child.script, 1000);
  await child.ready();
  const t0 = Date.now();
  p.signalLeader('SIGTERM');
  assert.equal((await p.exited).exitCode, 137);
  assert.ok(Date.now() - t0 >= 900, 'waited for the stop timeout');
});

test('a shutdown step (handover) that hangs cannot hold SIGTERM back from the child past its budget', async () => {
  const child = trapped("trap 'exit 0' TERM");
  const p = driverProcess(['5000', child.script, '1000']);
  await child.ready();
  const t0 = Date.now();
  p.signalLeader('SIGTERM');
  const exited = await Promise.race([p.leaderExited, new Promise<null>((r) => setTimeout(r, 15_000, null))]);
  assert.ok(exited, `the child never got SIGTERM: the hanging step held it back\n${p.tail.join('\n')}`);
  assert.equal(exited.exitCode, 0, p.tail.join('\n'));
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 6000, `SIGTERM reached the child ${took} ms after it arrived (budget 1000 ms)`);
});

const hasTini = spawnSync('tini', ['--version'], { stdio: 'ignore' }).status === 0;

test(
  "zombies: under tini (the image's PID 1) an orphaned grandchild is adopted and reaped",
  { skip: hasTini ? false : 'tini is not installed (.ci/run installs it)' },
  async () => {
    // tini -s makes it a child subreaper here, as it is PID 1 in the container. The launcher's main child keeps running
    // (as redis-server does) while a subshell of it leaves a background `sleep` behind and exits: the orphan is
    // re-parented to tini, and when it exits tini must reap it.
    const p = startProcess(
      'tini',
      'tini',
      ['-s', '-g', '--', process.execPath, driver, '5000', '(sleep 1 & echo $!) ; sleep 5'],
      { group: true },
    );
    let out = '';
    p.proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const orphan = Number(await waitFor('orphan pid', () => out.trim().split('\n')[0], 5000));
    // /proc/<pid>/stat after the command name: state, ppid, pgrp, ...
    const ppid = () => {
      try {
        return Number(readFileSync(`/proc/${orphan}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      } catch {
        return undefined;
      }
    };
    // once its shell has exited, the orphan (alive for 1 s) must be seen with tini as its parent...
    await waitFor('orphan adopted by tini', () => ppid() === p.pid, 3000, 5);
    // ...and when it exits, tini reaps it: it leaves /proc instead of staying a zombie.
    await waitFor('orphan reaped (gone from /proc, not a zombie)', () => ppid() === undefined, 5000);
    p.signalLeader('SIGTERM');
    await p.exited;
  },
);

test('`launcher` with no settings exits 2 with one line; --help exits 0', async () => {
  const r = await execa(process.execPath, [join(REPO, 'bin/launcher'), 'run'], {
    reject: false,
    env: { POD_NAME: '', HOSTNAME: '' },
  });
  assert.equal(r.exitCode, 2);
  assert.equal(String(r.stderr).trim().split('\n').length, 1);
  const h = await execa(process.execPath, [join(REPO, 'bin/launcher'), 'run', '--help'], { reject: false });
  assert.equal(h.exitCode, 0);
  assert.match(String(h.stdout), /REDIS_POD_SELECTOR/);
});
