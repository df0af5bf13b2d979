// Which engine and tools the launcher runs (src/redis/engine.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterStatus, renderClusterStatus } from '../../src/cluster/rules/status.ts';
import { parseClusterNodes } from '../../src/cluster/rules/nodes.ts';
import { mixedEngines } from '../../src/model.ts';
import { engineBins, engineOf, engineText } from '../../src/redis/engine.ts';

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

test('status: each pod names its engine; two engines in one set are reported, two versions of one are not', () => {
  assert.equal(engineText({ family: 'valkey', version: '8.0.1' }), 'valkey 8.0.1');
  assert.equal(engineText(undefined), undefined);
  assert.equal(mixedEngines({ 'redis-0': 'redis 7.0.15', 'redis-1': 'redis 7.2.4', 'redis-2': undefined }), undefined);
  assert.equal(
    mixedEngines({ 'redis-0': 'redis 7.0.15', 'redis-1': 'valkey 8.0.1', 'redis-2': 'valkey 8.0.1' }),
    'the pods run different engines (redis-0 (redis 7.0.15); redis-1 (valkey 8.0.1), redis-2 (valkey 8.0.1)): a ' +
      'replica can load only data of an engine and RDB version it knows; finish the move to one engine',
  );
  const nodes = parseClusterNodes('a 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-16383');
  const pods = [{ name: 'redis-0', ordinal: 0, ip: '10.0.0.1', phase: 'Running', ready: true, terminating: false }];
  const st = clusterStatus({
    pods,
    states: {
      'redis-0': {
        info: { cluster_state: 'ok', cluster_slots_assigned: '16384', cluster_known_nodes: '1', cluster_my_epoch: '1' },
        nodes,
        keys: 0,
      },
    },
    replicasPerMaster: 0,
    engines: { 'redis-0': 'valkey 8.0.1' },
  });
  assert.match(renderClusterStatus(st, undefined), /^POD +NODE +IP +LABEL +READY +NODE ID +ROLE +ENGINE +SLOTS/m);
  assert.match(renderClusterStatus(st, undefined), /^redis-0 .* master +valkey 8\.0\.1 +0-16383/m);
});
