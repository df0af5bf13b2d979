// Redis Cluster mode's scaling rules (src/cluster/rules/scaling.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClusterNodes } from '../../src/cluster/rules/nodes.ts';
import { removeShardProblem, replicasOf } from '../../src/cluster/rules/scaling.ts';
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
