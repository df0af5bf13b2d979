// `launcher status` in cluster mode (src/cluster/rules/status.ts): the verdict and the table, pure functions of
// what each pod's Redis says of the cluster.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClusterNodes, type NodeState } from '../../src/cluster/rules/nodes.ts';
import { clusterStatus, renderClusterStatus } from '../../src/cluster/rules/status.ts';
import type { PodView } from '../../src/model.ts';

const ID = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40), 'd'.repeat(40), 'e'.repeat(40), 'f'.repeat(40)];
const LINES = [
  `${ID[0]} 10.0.0.1:6379@16379 master - 0 0 1 connected 0-5461`,
  `${ID[1]} 10.0.0.2:6379@16379 master - 0 0 2 connected 5462-10922`,
  `${ID[2]} 10.0.0.3:6379@16379 master - 0 0 3 connected 10923-16383`,
  `${ID[3]} 10.0.0.4:6379@16379 slave ${ID[0]} 0 0 1 connected`,
  `${ID[4]} 10.0.0.5:6379@16379 slave ${ID[1]} 0 0 2 connected`,
  `${ID[5]} 10.0.0.6:6379@16379 slave ${ID[2]} 0 0 3 connected`,
];
const ok = { cluster_state: 'ok', cluster_known_nodes: '6', cluster_slots_assigned: '16384' };
/** Pod i's view: the lines, its own marked myself (and `edit` applied to the text). */
const stateOf = (i: number, edit = (l: string) => l): NodeState => ({
  info: ok,
  nodes: parseClusterNodes(
    LINES.map((l, j) => edit(j === i ? l.replace(/ (master|slave) /, ' myself,$1 ') : l)).join('\n'),
  ),
  keys: 0,
});
const pod = (i: number, label = i < 3 ? 'master' : 'slave'): PodView => ({
  name: `redis-${i}`,
  ordinal: i,
  ip: `10.0.0.${i + 1}`,
  phase: 'Running',
  ready: true,
  terminating: false,
  roleLabel: label,
  node: `n${i}`,
  clusterNodeId: ID[i],
});
const all = () => [0, 1, 2, 3, 4, 5].map((i) => pod(i));
const states = (edit?: (l: string) => string): Record<string, NodeState | undefined> =>
  Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [`redis-${i}`, stateOf(i, edit)]));

test('a whole cluster is healthy: each row from its own Redis, replicas named by the pod they follow', () => {
  const st = clusterStatus({ pods: all(), states: states(), replicasPerMaster: 1, formedAt: '2026-12-01T00:00:00Z' });
  assert.equal(st.verdict, 'healthy', st.problems.join('; '));
  assert.deepEqual(st.masters, ['redis-0', 'redis-1', 'redis-2']);
  assert.deepEqual(st.rows[3], {
    pod: 'redis-3',
    node: 'n3',
    ip: '10.0.0.4',
    label: 'slave',
    ready: true,
    id: 'dddddddd',
    role: 'replica',
    follows: 'redis-0',
  });
  const text = renderClusterStatus(st, '2026-12-01T00:00:00Z');
  assert.match(text, /^POD +NODE +IP +LABEL +READY +NODE ID +ROLE +ENGINE +SLOTS +FOLLOWS$/m);
  assert.match(text, /^redis-0 +n0 +10\.0\.0\.1 +master +yes +aaaaaaaa +master +- +0-5461 +-$/m);
  assert.match(text, /verdict: healthy \(3 masters, 16384 slots served\)$/);
});

test('what is wrong, each in one sentence: a dead master, its replica taking over, a wrong label, a stray pod', () => {
  // redis-0 is dead (no answer); the others see it failed; its replica took over its slots.
  const s = states((l) =>
    l.startsWith(ID[0])
      ? `${ID[0]} 10.0.0.1:6379@16379 master,fail - 0 0 1 disconnected`
      : l.startsWith(ID[3])
        ? l.replace(`slave ${ID[0]}`, 'master -') + ' 0-5461'
        : l,
  );
  s['redis-0'] = undefined;
  const pods = all();
  pods.push({ ...pod(6, ''), roleLabel: undefined });
  s['redis-6'] = { info: { cluster_known_nodes: '1', cluster_slots_assigned: '0' }, nodes: [], keys: 0 };
  s['redis-6'].nodes = parseClusterNodes(`${'9'.repeat(40)} 10.0.0.7:6379@16379 myself,master - 0 0 0 connected`);
  const st = clusterStatus({ pods, states: s, replicasPerMaster: 1 });
  assert.equal(st.verdict, 'degraded');
  assert.ok(st.problems.includes("redis-0's Redis does not answer"), st.problems.join('; '));
  assert.ok(st.problems.includes('redis-0 is marked failed by 5 of 5 members'), st.problems.join('; '));
  assert.ok(st.problems.includes('master redis-3 (5462 slots) has no replica: losing it loses its slots'));
  assert.ok(st.problems.includes('redis-3 is a master but labelled slave'));
  assert.ok(st.problems.includes('redis-6 is not in the cluster (to add it: launcher cluster add-shard)'));
  // The Lease records a node for redis-6 that the members know: it lost its volume and rejoins by itself.
  const back = clusterStatus({ pods, states: s, replicasPerMaster: 1, nodeIds: { 'redis-6': [ID[0]] } });
  assert.ok(
    back.problems.includes(
      'redis-6 is not in the cluster: it is back without its volume (it ran node aaaaaaaa) and rejoins by itself ' +
        'as a replica (launcher role says what it waits for)',
    ),
    back.problems.join('; '),
  );
  assert.equal(st.rows.find((r) => r.pod === 'redis-0')?.role, 'unreachable');
  assert.match(renderClusterStatus(st, undefined), /^verdict: degraded: redis-0's Redis does not answer$/m);
});

test('uncovered slots, a failed node no pod runs, replicas beside their master, a cluster not formed', () => {
  const s = states((l) => l.replace(' 10923-16383', ' 10923-16000'));
  s['redis-1'] = {
    ...s['redis-1']!,
    nodes: [...s['redis-1']!.nodes, ...parseClusterNodes(`${'7'.repeat(40)} 10.0.0.99:6379@16379 slave,fail - 0 0 0`)],
  };
  const pods = all().map((p) => (p.name === 'redis-5' ? { ...p, node: 'n2' } : p));
  const st = clusterStatus({ pods, states: s, replicasPerMaster: 1 });
  assert.ok(st.problems.includes('383 slots are served by no node'), st.problems.join('; '));
  assert.ok(st.problems.some((p) => /^node 77777777 \(10\.0\.0\.99:6379\) is failed and no pod runs it/.test(p)));
  assert.ok(st.problems.includes('every replica of redis-2 runs on its node n2: losing the node loses the shard'));
  // Zones (the pods carry them): every replica of a master in its master's zone is reported, and shown.
  const zoned = all().map((p, i) => ({ ...p, zone: ['z0', 'z1', 'z2', 'z0', 'z2', 'z0'][i] }));
  const z = clusterStatus({ pods: zoned, states: states(), replicasPerMaster: 1 });
  assert.deepEqual(z.problems, ['every replica of redis-0 runs in its zone z0: losing the zone loses the shard']);
  assert.match(renderClusterStatus(z, undefined), /^POD +NODE +ZONE +IP /m);
  const fresh = Object.fromEntries(
    [0, 1, 2].map((i) => [`redis-${i}`, { info: { cluster_known_nodes: '1' }, nodes: [], keys: 0 } as NodeState]),
  );
  const none = clusterStatus({ pods: all().slice(0, 3), states: fresh, replicasPerMaster: 1 });
  assert.equal(none.verdict, 'degraded');
  assert.match(none.problems[0], /not formed yet/);
  // A suspicion (fail?) is not a failure; a master with no slot and a replica with its link down are reported.
  const odd = states((l) =>
    l.startsWith(ID[2])
      ? l.replace(' master ', ' master,fail? ')
      : l.startsWith(ID[5])
        ? l.replace(`slave ${ID[2]}`, 'master -')
        : l,
  );
  const o = clusterStatus({ pods: all(), states: odd, replicasPerMaster: 0, links: { 'redis-4': 'down' } });
  assert.ok(o.problems.includes('redis-2 does not answer 5 of 6 members (suspected)'), o.problems.join('; '));
  assert.ok(o.problems.includes('redis-5 is a master serving no slot (give it slots: launcher cluster rebalance)'));
  assert.ok(o.problems.includes('redis-4 is a replica whose link to its master is down'));
  const dark = clusterStatus({ pods: all(), states: {}, replicasPerMaster: 1, formedAt: 'x' });
  assert.equal(dark.verdict, 'unknown');
});

test('open slots (a move running or stopped half-way) and slots two masters claim, each in one sentence', () => {
  // redis-0 migrates slots 100-106 to redis-1, which imports them; redis-1's own line also claims 0-10 (stale).
  const s = states((l) => l);
  const mine = (i: number, extra: string) =>
    parseClusterNodes(
      LINES.map((l, j) => (j === i ? `${l.replace(/ (master|slave) /, ' myself,$1 ')}${extra}` : l)).join('\n'),
    );
  const moving = Array.from({ length: 7 }, (_, k) => 100 + k);
  s['redis-0'] = { ...s['redis-0']!, nodes: mine(0, moving.map((x) => ` [${x}->-${ID[1]}]`).join('')) };
  s['redis-1'] = { ...s['redis-1']!, nodes: mine(1, ` 0-10 [100-<-${ID[0]}]`) };
  const st = clusterStatus({ pods: all(), states: s, replicasPerMaster: 1 });
  assert.equal(st.verdict, 'degraded');
  assert.deepEqual(st.problems, [
    '11 slots between 0 and 10 are claimed by both redis-0 and redis-1, each saying it serves them',
    'redis-0 has slots 100, 101, 102, 103, 104 and 2 more open, migrating to redis-1: a slot move is running or ' +
      'stopped half-way (launcher cluster rebalance closes it)',
    'redis-1 has slot 100 open, importing from redis-0: a slot move is running or stopped half-way (launcher ' +
      'cluster rebalance closes it)',
  ]);
});

test('a failed node no pod runs: FORGET only when it serves no slot and no replica follows it', () => {
  const ghost = '7'.repeat(40);
  const withGhost = (line: string, replicaOf = false) => {
    const s = states((l) => (replicaOf && l.startsWith(ID[5]) ? l.replace(`slave ${ID[2]}`, `slave ${ghost}`) : l));
    for (const name of Object.keys(s)) {
      const st = s[name];
      if (st) s[name] = { ...st, nodes: [...st.nodes, ...parseClusterNodes(line)] };
    }
    return clusterStatus({ pods: all(), states: s, replicasPerMaster: 1 }).problems;
  };
  // A failed replica, or a master that serves nothing: forgetting it loses nothing.
  const replica = withGhost(`${ghost} 10.0.0.99:6379@16379 slave,fail ${ID[0]} 0 0 1 connected`);
  assert.ok(
    replica.some((p) => /^node 77777777 .* CLUSTER FORGET it on every node/.test(p)),
    replica.join('; '),
  );
  // A failed master that still serves slots: its data is on its volume; forgetting it drops the shard.
  const master = withGhost(`${ghost} 10.0.0.99:6379@16379 master,fail - 0 0 4 connected 16000-16383`);
  assert.ok(!master.some((p) => /FORGET it on every node/.test(p)), master.join('; '));
  assert.ok(
    master.includes(
      'node 77777777 (10.0.0.99:6379) is failed, serves 384 slots (16000-16383) and no pod runs it: bring its pod ' +
        'or its volume back (never CLUSTER FORGET it: its slots would be served by no node, then re-created empty)',
    ),
    master.join('; '),
  );
  // ...and one a replica still follows: that replica is named, with what taking over would cost.
  const followed = withGhost(`${ghost} 10.0.0.99:6379@16379 master,fail - 0 0 4 connected 16000-16383`, true);
  assert.ok(
    followed.some((p) =>
      p.endsWith(
        'its replica redis-5 has not taken over: CLUSTER FAILOVER FORCE on redis-5 makes it serve them, ' +
          'without the writes it had not received (FORCE needs a majority of the masters to vote; without one, ' +
          'TAKEOVER)',
      ),
    ),
    followed.join('; '),
  );
});

test('a master a scale-down removed with its slots: scale back, then remove-shard', () => {
  const s = states((l) => l.replace(' 10923-16383', ' 10923-16000'));
  const gone = parseClusterNodes(`${'8'.repeat(40)} 10.0.0.7:6379@16379 master,fail - 0 0 7 disconnected 16001-16383`);
  for (const name of Object.keys(s)) s[name] = { ...s[name]!, nodes: [...s[name]!.nodes, ...gone] };
  const nodeIds = { 'redis-6': ['8'.repeat(40)] };
  const statefulSet = { name: 'redis', start: 0, replicas: 6 };
  const st = clusterStatus({ pods: all(), states: s, replicasPerMaster: 1, nodeIds, statefulSet });
  assert.ok(
    st.problems.includes(
      'slots 16001-16383 belong to redis-6, removed by a scale-down: scale back (kubectl scale statefulset redis ' +
        '--replicas=7: its volume was kept), then launcher cluster remove-shard redis-6',
    ),
    st.problems.join('; '),
  );
  const deleted = { ...statefulSet, scaledVolumesDeleted: true };
  const lost = clusterStatus({ pods: all(), states: s, replicasPerMaster: 1, nodeIds, statefulSet: deleted });
  assert.ok(lost.problems.some((p) => /deleted its volume .* whenScaled: Delete\): their data is lost/.test(p)));
  // Its ordinal still kept (the pod is only away): the ordinary advice, under its pod's name.
  const away = clusterStatus({
    pods: all(),
    states: s,
    replicasPerMaster: 1,
    nodeIds,
    statefulSet: { ...statefulSet, replicas: 8 },
  });
  assert.ok(
    away.problems.some((p) => /bring its pod or its volume back/.test(p)),
    away.problems.join('; '),
  );
});
