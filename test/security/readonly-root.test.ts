// readOnlyRootFilesystem: the launcher, redis-server and redis-sentinel write only to the data dir and their config
// dirs (the PVC and the emptyDirs). Each container runs in a mount namespace of its own where everything else is
// read-only; the set boots, fails over and converges there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO, testCluster } from '../support/cluster.ts';

/** Makes / read-only for this process and its children, but for its data and config dirs, then runs the command. */
const READ_ONLY_ROOT = [
  'mkdir -p "$REDIS_DATA_DIR" "$REDIS_CONF_DIR"',
  'mount --make-rprivate /',
  'mount --bind "$REDIS_DATA_DIR" "$REDIS_DATA_DIR"',
  'mount --bind "$REDIS_CONF_DIR" "$REDIS_CONF_DIR"',
  'mount -o remount,bind,ro /',
  'exec "$@"',
].join(' && ');

const canUnshare =
  spawnSync('unshare', ['-m', 'sh', '-c', 'mount --make-rprivate / && mount -o remount,bind,ro /'], { stdio: 'ignore' })
    .status === 0;

test(
  'with a read-only root filesystem the set boots, fails over and converges',
  {
    skip: !canUnshare && !process.env.CI && 'mount namespaces are not allowed here',
  },
  async (t) => {
    assert.ok(canUnshare, 'unshare -m works (as root)');
    const { c } = await testCluster(t, 'readonly', {
      entrypoint: ['unshare', '-m', 'sh', '-c', READ_ONLY_ROOT, 'sh', process.execPath, join(REPO, 'bin/launcher')],
    });
    await c.startAll();
    const master = await c.converged('boot on a read-only root', 40_000);
    await c.killPod(Number(master.split('-').pop()));
    await c.startPod(Number(master.split('-').pop()));
    const now = await c.converged('failover and return on a read-only root', 40_000);
    assert.notEqual(now, master);
    const errors = [...c.pods.values()].flatMap((p) =>
      [...(p.redis?.tail ?? []), ...(p.sentinel?.tail ?? [])].filter((l) => /read-only file system|EROFS/i.test(l)),
    );
    assert.deepEqual(errors, []);
  },
);
