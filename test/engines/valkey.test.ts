// The core real-process scenarios (test/support/engine-scenarios.ts) on Valkey 8.0 (bookworm-backports, unpacked by
// test/support/tools.ts), as they run on Redis 7.0 elsewhere. The launcher finds Valkey's Sentinel, CLI and AOF
// checker beside REDIS_SERVER_BIN, and `launcher role` and `status` say which engine runs. `npm run compat` runs
// the same scenarios on every build of the matrix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterScenario, sentinelScenario } from '../support/engine-scenarios.ts';
import { VALKEY_80, valkeyMissing } from '../support/engines.ts';

const skip = valkeyMissing();

test('Valkey 8.0, Sentinel mode: failover, return, handover and full restart keep every key', { skip }, async (t) => {
  const { version } = await sentinelScenario(t, VALKEY_80, 'valkey');
  assert.match(version, /^valkey 8\.0\.\d+$/);
});

test('Valkey 8.0, cluster mode: formed; a killed master is replaced by its replica', { skip }, async (t) => {
  await clusterScenario(t, VALKEY_80, 'valkey-cluster');
});
