// Redis Cluster mode's scaling rules (src/cluster/rules/scaling.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClusterNodes } from '../../src/cluster/rules/nodes.ts';
import {
  drainWeights,
  leaveProblem,
  leavesByScaleIn,
  removeShardProblem,
  replicasOf,
  replicaLeaving,
  replicaTarget,
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
  // d has a replica that stays: it hands over instead, and is not drained.
  const heir = [...nodes, ...parseClusterNodes('h 10.0.0.4:6379@16379 slave d 0 0 5 connected')];
  assert.deepEqual(drainWeights(heir, ['10.0.0.7:6379', '10.0.0.10:6379']), ['a=0']);
  // Every master serving slots leaves (a scale-down below one shard): no drain is possible.
  assert.equal(drainWeights(nodes, ['10.0.0.7:6379', '10.0.0.10:6379', '10.0.0.1:6379']), undefined);
});

test('scale-in: a replica leaves only while its master keeps the data', () => {
  const nodes = (m: string) =>
    parseClusterNodes([m, 'b 10.0.0.8:6379@16379 myself,slave a 0 0 4 connected'].join('\n'));
  const me = (ns: ReturnType<typeof nodes>) => ns[1];
  const staying = nodes('a 10.0.0.7:6379@16379 master - 0 0 4 connected 0-99');
  assert.equal(replicaLeaving(me(staying), staying, [], true).kind, 'leave');
  assert.deepEqual(replicaLeaving(me(staying), staying, [], false), {
    kind: 'wait',
    reason: 'its link to master 10.0.0.7:6379 is down',
  });
  const failed = nodes('a 10.0.0.7:6379@16379 master,fail - 0 0 4 connected 0-99');
  assert.deepEqual(replicaLeaving(me(failed), failed, [], true), {
    kind: 'keep',
    reason: 'its master 10.0.0.7:6379 is failing: this replica may hold the only live copy of its slots',
  });
  assert.equal(replicaLeaving(me(staying), staying, ['10.0.0.7:6379'], true).kind, 'leave', 'its master leaves too');
  assert.equal(replicaLeaving(me(failed), failed, ['10.0.0.7:6379'], true).kind, 'keep', 'failing, leaving or not');
  const drained = nodes('a 10.0.0.7:6379@16379 master - 0 0 4 connected');
  assert.equal(replicaLeaving(me(drained), drained, ['10.0.0.7:6379'], true).kind, 'leave');
  assert.equal(replicaLeaving(me(staying), staying.slice(1), [], true).kind, 'keep', 'its master unknown');
});

test('scale-in: a node leaves the cluster only without slots, open slots or, as a master, keys', () => {
  const st = (line: string, keys = 0) => ({ info: {}, nodes: parseClusterNodes(line), keys });
  assert.equal(leaveProblem(st('a 10.0.0.7:6379@16379 myself,master - 0 0 4 connected')), undefined);
  assert.equal(leaveProblem(st('a 10.0.0.7:6379@16379 myself,slave b 0 0 4 connected', 10)), undefined);
  assert.match(leaveProblem(st('a 10.0.0.7:6379@16379 myself,master - 0 0 4 connected 5')) ?? '', /serves 1 slots/);
  assert.match(leaveProblem(st('a 10.0.0.7:6379@16379 myself,master - 0 0 4 connected', 3)) ?? '', /holding 3 keys/);
  assert.match(leaveProblem(st('a 10.0.0.7:6379@16379 myself,master - 0 0 4 connected [7->-b]')) ?? '', /1 slots open/);
  assert.equal(leaveProblem(undefined), 'Redis does not answer');
});

test('add-replica: the master with the fewest replicas, then another zone, then another node', () => {
  const nodes = parseClusterNodes(
    [
      'a 10.0.0.1:6379@16379 master - 0 0 1 connected 0-5460',
      'b 10.0.0.2:6379@16379 master - 0 0 2 connected 5461-10922',
      'c 10.0.0.3:6379@16379 master - 0 0 3 connected 10923-16383',
      'd 10.0.0.4:6379@16379 slave a 0 0 1 connected',
      'e 10.0.0.5:6379@16379 slave b 0 0 2 connected',
      'f 10.0.0.6:6379@16379 slave,fail c 0 0 3 disconnected',
      'g 10.0.0.9:6379@16379 master - 0 0 0 connected',
    ].join('\n'),
  );
  const at = (zone: string, node: string) => (n: { host: string }) =>
    ({ ...pods[Number(n.host.split('.')[3]) - 1], zone: n.host === '10.0.0.3' ? zone : 'z1', node }) as PodView;
  const fresh = { ...pods[6], zone: 'z3', node: 'n9' };
  // c's replica failed: c has the fewest live replicas; g serves no slot and is never chosen.
  assert.equal(replicaTarget(nodes, at('z3', 'n3'), fresh)?.id, 'c');
  const two = parseClusterNodes(
    [
      'a 10.0.0.1:6379@16379 master - 0 0 1 connected 0-8191',
      'b 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383',
    ].join('\n'),
  );
  const zoneOf = (n: { host: string }) => ({ ...pods[0], zone: n.host === '10.0.0.1' ? 'z3' : 'z1' }) as PodView;
  assert.equal(replicaTarget(two, zoneOf, fresh)?.id, 'b', 'not in its own zone when the counts tie');
  assert.equal(replicaTarget([], zoneOf, fresh), undefined);
});
