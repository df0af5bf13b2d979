// Which engine and tools the launcher runs (src/redis/engine.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineBins, engineOf } from '../../src/redis/engine.ts';

test('engine: an explicit server wins; else valkey-server, then redis-server on PATH; tools of the same family', () => {
  const on =
    (...names: string[]) =>
    (n: string) =>
      names.includes(n);
  const v = engineBins({ onPath: on('valkey-server', 'redis-server') });
  assert.deepEqual(v, {
    family: 'valkey',
    server: 'valkey-server',
    sentinel: 'valkey-sentinel',
    cli: 'valkey-cli',
    checkAof: 'valkey-check-aof',
    why: 'valkey-server found on PATH',
  });
  const r = engineBins({ onPath: on('redis-server') });
  assert.equal(r.family, 'redis');
  assert.equal(r.cli, 'redis-cli');
  assert.equal(r.why, 'redis-server found on PATH (no valkey-server)');
  const given = engineBins({ server: '/opt/valkey/bin/valkey-server', onPath: on('redis-server') });
  assert.equal(given.sentinel, '/opt/valkey/bin/valkey-sentinel');
  assert.equal(given.checkAof, '/opt/valkey/bin/valkey-check-aof');
  assert.equal(given.why, 'REDIS_SERVER_BIN=/opt/valkey/bin/valkey-server');
  assert.equal(engineBins({ server: 'redis-server', sentinel: '/x/sentinel', onPath: on() }).sentinel, '/x/sentinel');
  assert.equal(engineBins({ onPath: on() }).why, 'neither valkey-server nor redis-server found on PATH');
});

test('engine: INFO server names it: Valkey by server_name or valkey_version, else Redis', () => {
  assert.deepEqual(engineOf({ server_name: 'valkey', valkey_version: '8.0.1', redis_version: '7.2.4' }), {
    family: 'valkey',
    version: '8.0.1',
  });
  assert.deepEqual(engineOf({ redis_version: '7.0.15' }), { family: 'redis', version: '7.0.15' });
  assert.equal(engineOf({}), undefined);
});
