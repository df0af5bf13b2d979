// Redis Cluster mode's scaling rules (src/cluster/rules/scaling.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClusterNodes } from '../../src/cluster/rules/nodes.ts';
import {
  drainWeights,
  leavesByScaleIn,
  removeShardProblem,
  replicasOf,
  scaleInStep,
} from '../../src/cluster/rules/scaling.ts';
import type { PodView } from '../../src/model.ts';

const pods = [0, 1, 2, 3, 4, 5, 6, 7].map((i): PodView => ({
  name: `redis-${i}`,
  ordinal: i,
  phase: 'Running',
  ready: true,
  terminating: false,
}));

test('remove-shard: only the shard on the highest ordinals (what a scale-down removes)', () => {
  assert.equal(removeShardProblem(['redis-6', 'redis-7'], pods), undefined);
  assert.equal(removeShardProblem(['redis-7', 'redis-6'], pods), undefined);
  assert.equal(
    removeShardProblem(['redis-1', 'redis-4'], pods),
    'the shard is redis-1, redis-4, but a scale-down removes the highest ordinals (redis-7, redis-6), which would ' +
      'take their slots with them: remove the shard on the highest ordinals (move the slots there first)',
  );
});

test("remove-shard: a master's replicas that a pod runs are deleted, failed ghosts are forgotten", () => {
  const nodes = parseClusterNodes(
    [
      'a 10.0.0.7:6379@16379 myself,master - 0 0 4 connected',
      'b 10.0.0.8:6379@16379 slave a 0 0 4 connected',
      'c 10.0.0.9:6379@16379 slave,fail a 0 0 4 disconnected',
      'd 10.0.0.2:6379@16379 slave e 0 0 2 connected',
    ].join('\n'),
  );
  const r = replicasOf('a', nodes);
  assert.deepEqual(
    r.live.map((n) => n.id),
    ['b'],
  );
  assert.deepEqual(
    r.ghosts.map((n) => n.id),
    ['c'],
  );
});

test('remove-shard: pods outside the cluster and empty above the shard may go with it', () => {
  assert.equal(removeShardProblem(['redis-6'], pods, ['redis-7']), undefined);
  assert.match(removeShardProblem(['redis-6'], pods) ?? '', /removes the highest ordinals \(redis-7\)/);
});

test('remove-shard: a replica at an address no live pod has is a ghost, whatever its flags', () => {
  const nodes = parseClusterNodes(
    [
      'a 10.0.0.7:6379@16379 myself,master - 0 0 4 connected',
      'b 10.0.0.8:6379@16379 slave,fail? a 0 0 4 connected',
    ].join('\n'),
  );
  assert.deepEqual(
    replicasOf('a', nodes, (host) => host !== '10.0.0.8').ghosts.map((n) => n.id),
    ['b'],
  );
});

test('scale-in: who leaves, what each does, and the weights of the drain', () => {
  const kept = { start: 0, replicas: 6 };
  assert.equal(leavesByScaleIn(6, kept), true);
  assert.equal(leavesByScaleIn(5, kept), false);
  assert.equal(leavesByScaleIn(6, undefined), false, 'the StatefulSet unreadable: not leaving');
  assert.equal(leavesByScaleIn(2, { start: 3, replicas: 3 }), true, 'below spec.ordinals.start');
  const [master, replica, empty] = parseClusterNodes(
    [
      'a 10.0.0.7:6379@16379 myself,master - 0 0 4 connected 0-99',
      'b 10.0.0.8:6379@16379 slave a 0 0 4 connected',
      'c 10.0.0.9:6379@16379 master - 0 0 4 connected',
    ].join('\n'),
  );
  assert.equal(scaleInStep(master, true), 'handover', 'a replica that stays takes the slots');
  assert.equal(scaleInStep(master, false), 'drain');
  assert.equal(scaleInStep(replica, false), 'leave');
  assert.equal(scaleInStep(empty, false), 'leave');
  const nodes = parseClusterNodes(
    [
      'a 10.0.0.7:6379@16379 myself,master - 0 0 4 connected 0-99',
      'd 10.0.0.10:6379@16379 master - 0 0 5 connected 100-199',
      'e 10.0.0.1:6379@16379 master - 0 0 1 connected 200-16383',
      'c 10.0.0.9:6379@16379 master - 0 0 4 connected',
    ].join('\n'),
  );
  assert.deepEqual(drainWeights(nodes, ['10.0.0.7:6379', '10.0.0.10:6379', '10.0.0.9:6379']), ['a=0', 'd=0']);
});
