// Redis Cluster mode, a pod back without its volume (src/cluster/rules/rejoin.ts): when it rejoins, whom it follows,
// what the Lease records, and which old nodes the members forget.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterAction, type ClusterView } from '../../src/cluster/rules/decide.ts';
import { nodesConfMaster, parseClusterNodes, type NodeState } from '../../src/cluster/rules/nodes.ts';
import { nodeIdRecord, replacedNodes } from '../../src/cluster/rules/rejoin.ts';
import type { PodView } from '../../src/model.ts';

const pod = (i: number, id?: string) =>
  ({
    name: `redis-${i}`,
    ordinal: i,
    ip: `10.0.0.${i + 1}`,
    phase: 'Running',
    terminating: false,
    ...(id ? { clusterNodeId: id } : {}),
  }) as PodView;

/** A member's state from CLUSTER NODES lines (`myself` marks its own). */
const state = (lines: string[], keys = 0): NodeState => ({
  info: { cluster_known_nodes: String(lines.length), cluster_slots_assigned: '16384', cluster_state: 'ok' },
  nodes: parseClusterNodes(lines.join('\n')),
  keys,
});
const fresh = (keys = 0): NodeState => ({
  info: { cluster_known_nodes: '1', cluster_slots_assigned: '0', cluster_state: 'fail' },
  nodes: parseClusterNodes('new0 10.0.0.9:6379@16379 myself,master - 0 0 0 connected'),
  keys,
});

// Three shards: m0 (redis-0) with replica r3 (redis-3), m1 (redis-1) with r4 (redis-4), m2 (redis-2) with r5.
const line = (id: string, i: number, flags: string, master = '-', slots = '') =>
  `${id} 10.0.0.${i + 1}:6379@16379 ${flags} ${master} 0 0 1 connected ${slots}`.trim();
const cluster = (me: string, r5: string) => [
  line('m0', 0, me === 'm0' ? 'myself,master' : 'master', '-', '0-5460'),
  line('m1', 1, 'master', '-', '5461-10922'),
  line('m2', 2, 'master', '-', '10923-16383'),
  line('r3', 3, 'slave', 'm0'),
  line('r4', 4, 'slave', 'm1'),
  r5,
];
const view = (local: NodeState | undefined, peers: Record<string, NodeState>, extra: Partial<ClusterView> = {}) =>
  ({
    self: { name: 'redis-5', ordinal: 5 },
    redisPort: 6379,
    desired: 6,
    masters: 3,
    replicasPerMaster: 1,
    pods: [0, 1, 2, 3, 4, 5].map((i) => pod(i, ['m0', 'm1', 'm2', 'r3', 'r4'][i])),
    local,
    peers,
    formedAt: '2026-12-01T00:00:00Z',
    nodeIds: { 'redis-5': ['r5'] },
    ...extra,
  }) as ClusterView;

test('a pod back without its volume meets a member once its old node is failed and serves no slot', () => {
  const failed = { 'redis-0': state(cluster('m0', line('r5', 5, 'slave,fail', 'm2'))) };
  const a = clusterAction(view(fresh(), failed));
  assert.equal(a.kind, 'meet', a.reason);
  assert.deepEqual(a.kind === 'meet' ? a.addresses : [], [{ host: '10.0.0.1', port: 6379 }]);
  assert.match(a.reason, /ran node r5, lost with its volume; .* rejoins empty through redis-0, to be a replica/);
  // Not failed yet, only suspected: it waits.
  const suspected = { 'redis-0': state(cluster('m0', line('r5', 5, 'slave,fail?', 'm2'))) };
  assert.match(clusterAction(view(fresh(), suspected)).reason, /the cluster has not failed node r5, .* yet/);
  // Its old IP answers with another ID (a container restarted without nodes.conf): noaddr counts as gone.
  assert.equal(
    clusterAction(view(fresh(), { 'redis-0': state(cluster('m0', line('r5', 5, 'slave,noaddr', 'm2'))) })).kind,
    'meet',
  );
  // A master whose slots no replica took over: its data is lost with the volume; the pod waits and says so.
  const serving = { 'redis-0': state(cluster('m0', line('r5', 5, 'master,fail', '-', '0-10'))) };
  assert.match(
    clusterAction(view(fresh(), serving)).reason,
    /still serves 11 slots: this pod rejoins as a replica once/,
  );
  // Holding keys (its nodes.conf lost, its data not): never flushed.
  assert.match(clusterAction(view(fresh(5), failed)).reason, /back without its nodes.conf but with 5 keys: .* never/);
  // Its old node forgotten (by hand) or never recorded: it joins only when asked.
  const forgotten = { 'redis-0': state(cluster('m0', line('r4b', 4, 'slave', 'm1'))) };
  assert.match(clusterAction(view(fresh(), forgotten)).reason, /it joins only when asked/);
  assert.match(clusterAction(view(fresh(), failed, { nodeIds: {} })).reason, /it joins only when asked/);
});

test('rejoined, it follows the master its old node followed, else the master with the fewest replicas', () => {
  const me = (flags = 'myself,master') => line('n5', 5, flags);
  const peer = (r5: string) => state(cluster('m0', r5));
  // It knows every node; its old node r5 followed m2.
  const local = state([...cluster('x', line('n5', 5, 'myself,master')).slice(0, 5), me()]);
  const oldReplica = view(local, { 'redis-0': peer(line('r5', 5, 'slave,fail', 'm2')) });
  const a = clusterAction(oldReplica);
  assert.equal(a.kind, 'replicate', a.reason);
  assert.equal(a.kind === 'replicate' && a.masterId, 'm2');
  assert.match(a.reason, /it follows redis-2, the master its old node followed/);
  // Its old node was a master whose replica took over (r3 now serves 0-5460, m0 is gone): the fewest replicas.
  const promoted = [
    line('m0', 0, 'master,fail'),
    line('m1', 1, 'master', '-', '5461-10922'),
    line('m2', 2, 'master', '-', '10923-16383'),
    line('r3', 3, 'master', '-', '0-5460'),
    line('r4', 4, 'slave', 'm1'),
    line('r5', 5, 'slave', 'm2'),
  ];
  const here = state([...promoted.slice(1), me()]);
  const b = clusterAction({
    ...view(here, {
      'redis-3': state(promoted.map((l) => (l.startsWith('r3 ') ? l.replace(' master ', ' myself,master ') : l))),
    }),
    self: { name: 'redis-0', ordinal: 0 },
    nodeIds: { 'redis-0': ['m0'] },
  });
  assert.equal(b.kind === 'replicate' && b.masterId, 'r3', b.reason);
  assert.match(b.reason, /the master with the fewest replicas/);
  // It does not know every node its peers know yet: it waits, so that the count is right.
  const partial = state([line('m1', 1, 'master', '-', '5461-10922'), me()]);
  assert.match(
    clusterAction(view(partial, { 'redis-0': peer(line('r5', 5, 'slave,fail', 'm2')) })).reason,
    /does not know 4/,
  );
  // A master serving no slot whose record names itself (a shard being added): nothing.
  assert.equal(clusterAction(view(local, {}, { nodeIds: { 'redis-5': ['n5'] } })).kind, 'none');
});

test('the record: a pod with a role records its node first, the one it replaced after; members forget replaced', () => {
  const local = (flags: string, master = '-') =>
    state([...cluster('x', line('r5', 5, 'slave,fail', 'm2')).slice(0, 5), line('n5', 5, flags, master)]);
  // A master serving no slot (rejoin not finished): nothing recorded yet.
  assert.equal(nodeIdRecord(view(local('myself,master'), {})), undefined);
  assert.deepEqual(nodeIdRecord(view(local('myself,slave', 'm2'), {})), ['n5', 'r5']);
  assert.equal(nodeIdRecord(view(local('myself,slave', 'm2'), {}, { formedAt: undefined })), undefined, 'not formed');
  assert.equal(
    nodeIdRecord(view(local('myself,slave', 'm2'), {}, { nodeIds: { 'redis-5': ['n5', 'r5'] } })),
    undefined,
  );
  assert.equal(nodeIdRecord(view(local('myself,slave', 'm2'), {}, { nodeIds: undefined })), undefined, 'no Lease');
  assert.deepEqual(nodeIdRecord(view(local('myself,slave', 'm2'), {}, { nodeIds: {} })), ['n5']);
  // redis-0's view: r5 failed, replaced by n5: forgotten. Not while a live node follows it, or it serves slots.
  const on0 = (r5: string, extra: string[] = []) =>
    view(
      state([...cluster('m0', r5), line('n5', 5, 'slave', 'm2'), ...extra]),
      {},
      {
        self: { name: 'redis-0', ordinal: 0 },
        nodeIds: { 'redis-5': ['n5', 'r5'] },
      },
    );
  assert.deepEqual(
    replacedNodes(on0(line('r5', 5, 'slave,fail', 'm2'))).map((n) => n.id),
    ['r5'],
  );
  assert.deepEqual(replacedNodes(on0(line('r5', 5, 'master,fail', '-', '1-2'))), []);
  assert.deepEqual(replacedNodes(on0(line('r5', 5, 'master,fail'), [line('r6', 6, 'slave', 'r5')])), []);
  assert.deepEqual(replacedNodes(on0(line('r5', 5, 'slave', 'm2'))), [], 'not failed: never');
});

test("a replica's nodes.conf names the master Redis syncs from at start", () => {
  const conf = [
    'b2 10.0.0.2:6379@16379 master - 0 1700000000000 2 connected 5461-10922',
    'c3 10.0.0.3:6379@16379 myself,slave b2 0 0 2 connected',
    'vars currentEpoch 3 lastVoteEpoch 0',
    '',
  ].join('\n');
  assert.deepEqual(nodesConfMaster(conf), { host: '10.0.0.2', port: 6379 });
  assert.equal(nodesConfMaster(conf.replace('myself,slave b2', 'myself,master -')), undefined);
  assert.equal(nodesConfMaster(''), undefined);
});
