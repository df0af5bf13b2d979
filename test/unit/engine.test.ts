// Which engine and tools the launcher runs (src/redis/engine.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterStatus, renderClusterStatus } from '../../src/cluster/rules/status.ts';
import { parseClusterNodes } from '../../src/cluster/rules/nodes.ts';
import {
  candidacyProblem,
  candidacyProblems,
  followProblem,
  followProblems,
  loadsRdb,
  rdbWritten,
} from '../../src/engines.ts';
import { engineBins, engineOf, engineOfVersion, engineText } from '../../src/redis/engine.ts';

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

test('status: each pod names its engine; a replica that cannot load its master is reported', () => {
  assert.equal(engineText({ family: 'valkey', version: '8.0.1' }), 'valkey 8.0.1');
  assert.equal(engineText(undefined), undefined);
  // Two engines side by side are a move replica-first, not a problem; a replica that cannot load its master is.
  const engines = { 'redis-0': 'redis 7.0.15', 'redis-1': 'valkey 8.0.1', 'redis-2': 'redis 7.0.15' };
  assert.deepEqual(followProblems(engines, [['redis-1', 'redis-0']]), []);
  assert.deepEqual(followProblems({ ...engines, 'redis-0': 'valkey 8.0.1' }, [['redis-2', 'redis-0']]), [
    'redis-2 cannot sync from its master redis-0: valkey 8.0.1 writes RDB version 11, which redis 7.0.15 cannot load',
  ]);
  assert.deepEqual(followProblems({}, [['redis-2', 'redis-0']]), [], 'engines unknown: nothing said');
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

test('RDB versions: what each release writes and loads; a replica never follows a master it cannot load', () => {
  const redis = (version: string) => ({ family: 'redis' as const, version });
  const valkey = (version: string) => ({ family: 'valkey' as const, version });
  const written = ['6.2.14', '7.0.15', '7.2.4', '7.4.2', '8.0.2', '8.6.0'].map((v) => rdbWritten(redis(v)));
  assert.deepEqual(written, [9, 10, 11, 12, 12, 13]);
  assert.deepEqual(
    ['7.2.5', '8.0.1', '8.1.1', '9.0.0', '9.1.2', '9.2.0'].map((v) => rdbWritten(valkey(v))),
    [11, 11, 11, 80, 80, 81],
  );
  assert.equal(rdbWritten(redis('5.0.7')), undefined, 'older than 6: not judged');
  // Redis loads up to its own version; Valkey up to 11 and its own range (80+), never Redis's 12..79.
  assert.equal(loadsRdb(redis('7.0.15'), 11), false);
  assert.equal(loadsRdb(redis('7.4.2'), 11), true);
  assert.equal(loadsRdb(redis('8.0.2'), 80), false, 'the VALKEY header');
  assert.equal(loadsRdb(valkey('8.0.1'), 12), false);
  assert.equal(loadsRdb(valkey('8.0.1'), 10), true);
  assert.equal(loadsRdb(valkey('9.1.2'), 80), true);
  assert.equal(loadsRdb(valkey('8.1.1'), 80), false);
  // The moves people make: Redis 7.0 -> Valkey 8 replica-first works; back is refused; Redis 7.4+ -> Valkey too.
  assert.equal(followProblem(valkey('8.0.1'), redis('7.0.15')), undefined);
  assert.equal(followProblem(valkey('8.0.1'), redis('7.2.4')), undefined);
  assert.match(followProblem(redis('7.0.15'), valkey('8.0.1')) ?? '', /^valkey 8.0.1 writes RDB version 11, which/);
  assert.match(followProblem(valkey('8.1.1'), redis('8.0.2')) ?? '', /writes RDB version 12/);
  assert.match(followProblem(valkey('8.1.1'), valkey('9.0.0')) ?? '', /writes RDB version 80/);
  assert.equal(followProblem(redis('7.2.4'), redis('7.0.15')), undefined, 'an upgrade, replica first');
  assert.deepEqual(engineOfVersion('Valkey server v=8.0.1 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64'), {
    family: 'valkey',
    version: '8.0.1',
  });
  assert.deepEqual(engineOfVersion('Redis server v=7.0.15 sha=00000000:0'), { family: 'redis', version: '7.0.15' });
});

test('candidacy: a replica another could not follow is no failover candidate; the master is not counted', () => {
  const valkey8 = { family: 'valkey', version: '8.0.1' } as const;
  const redis7 = { family: 'redis', version: '7.0.15' } as const;
  // The middle of a move from Redis 7.0 to Valkey 8.0, replica first.
  assert.equal(
    candidacyProblem(valkey8, [{ pod: 'redis-2', engine: 'redis 7.0.15' }]),
    'no failover candidate while redis-2 (redis 7.0.15) replicates: it could not load RDB version 11, which ' +
      'valkey 8.0.1 writes (move the replicas first, then the master)',
  );
  // Every other replica on Valkey (the master, left on Redis 7.0, is not among them): a candidate.
  assert.equal(candidacyProblem(valkey8, [{ pod: 'redis-2', engine: 'valkey 8.0.1' }]), undefined);
  // The older engine is followed by the newer one; engines not told are held against no one.
  assert.equal(candidacyProblem(redis7, [{ pod: 'redis-1', engine: 'valkey 8.0.1' }]), undefined);
  assert.equal(candidacyProblem(valkey8, [{ pod: 'redis-2' }, { pod: 'redis-0', engine: 'garbage' }]), undefined);
  // Valkey 9 writes RDB 80, which Valkey 8.1 cannot load.
  assert.match(
    candidacyProblem({ family: 'valkey', version: '9.1.2' }, [{ pod: 'redis-0', engine: 'valkey 8.1.1' }]) ?? '',
    /RDB version 80/,
  );
  assert.deepEqual(
    candidacyProblems([
      { pod: 'redis-1', engine: 'valkey 8.0.1' },
      { pod: 'redis-2', engine: 'redis 7.0.15' },
    ]),
    [`redis-1 is ${candidacyProblem(valkey8, [{ pod: 'redis-2', engine: 'redis 7.0.15' }])}`],
  );
  // Valkey 9.1 beside 8.1: 8.1 writes RDB 11, which 9.1 loads, so only the 9.1 replica is held.
  const v91 = { pod: 'redis-1', engine: 'valkey 9.1.2' };
  assert.equal(candidacyProblems([v91, { pod: 'redis-2', engine: 'valkey 8.1.1' }]).length, 1);
  // Valkey 9.1 beside Redis 7.4 (RDB 80 and 12, neither loads the other's): every replica is held, and said so.
  const both = candidacyProblems([v91, { pod: 'redis-2', engine: 'redis 7.4.0' }]);
  assert.equal(both.length, 3);
  assert.match(both[2], /^no replica may be promoted/);
});
