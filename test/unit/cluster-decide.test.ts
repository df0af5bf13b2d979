// Redis Cluster mode's rules (src/cluster/rules/decide.ts): pure functions of what a pod observed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BOOTSTRAP_LEASE_MS, bootstrapPlan, clusterAction, type ClusterView } from '../../src/cluster/rules/decide.ts';
import { clusterHandover, replicaOffsets } from '../../src/cluster/rules/handover.ts';
import { inCluster, parseClusterNodes, slotCount, type NodeState } from '../../src/cluster/rules/nodes.ts';
import type { LivePod, PodView } from '../../src/model.ts';

test('CLUSTER NODES of Redis 7: address with bus port and hostname, flags, master, slot ranges, migrations', () => {
  const nodes = parseClusterNodes(
    [
      'a1 10.0.0.1:6379@16379,redis-0.redis-headless myself,master - 0 0 1 connected 0-5460 [5461->-b2]',
      'b2 10.0.0.2:6379@16379 master - 0 1700000000000 2 connected 5461 5462-10922 [10923-<-c3]',
      'c3 10.0.0.3:6379@16379 slave,fail a1 0 0 1 disconnected',
      '',
    ].join('\n'),
  );
  assert.deepEqual(nodes[0], {
    id: 'a1',
    host: '10.0.0.1',
    port: 6379,
    flags: ['myself', 'master'],
    linkState: 'connected',
    slots: [[0, 5460]],
    open: [{ slot: 5461, state: 'migrating', peer: 'b2' }],
  });
  assert.deepEqual(nodes[1].open, [{ slot: 10923, state: 'importing', peer: 'c3' }]);
  assert.equal(nodes[2].open, undefined);
  assert.deepEqual(nodes[1].slots, [
    [5461, 5461],
    [5462, 10922],
  ]);
  assert.equal(slotCount(nodes[1]), 5462);
  assert.equal(nodes[2].masterId, 'a1');
  assert.deepEqual(nodes[2].flags, ['slave', 'fail']);
});

const pod = (i: number, node = 'n1'): LivePod =>
  ({ name: `redis-${i}`, ordinal: i, ip: `10.0.0.${i + 1}`, phase: 'Running', terminating: false, node }) as LivePod;

test('the first layout: slots split evenly over the lowest ordinals; replicas prefer a master on another node', () => {
  const plan = bootstrapPlan(
    [pod(3, 'n1'), pod(0, 'n1'), pod(1, 'n2'), pod(2, 'n3'), pod(4, 'n2'), pod(5, 'n3')],
    3,
    1,
  );
  assert.deepEqual(plan.masters, [
    { pod: 'redis-0', from: 0, to: 5461 },
    { pod: 'redis-1', from: 5462, to: 10922 },
    { pod: 'redis-2', from: 10923, to: 16383 },
  ]);
  const nodeOf = new Map(
    [3, 0, 1, 2, 4, 5].map((i) => [`redis-${i}`, ['n1', 'n1', 'n2', 'n3', 'n2', 'n3'][[3, 0, 1, 2, 4, 5].indexOf(i)]]),
  );
  for (const r of plan.replicas) assert.notEqual(nodeOf.get(r.pod), nodeOf.get(r.of), `${r.pod} not on ${r.of}'s node`);
  assert.equal(new Set(plan.replicas.map((r) => r.of)).size, 3, 'one replica per master');
});

test('the first layout: replicas prefer a master in another zone, then on another node', () => {
  // Each pod on its own node, the zones repeating with the ordinals: a replica in its master's zone would pass
  // the node rule; the zone rule moves every replica one master on.
  const zoned = (i: number) => ({ ...pod(i, `n${i}`), zone: `z${i % 3}` });
  const plan = bootstrapPlan([0, 1, 2, 3, 4, 5].map(zoned), 3, 1);
  const zoneOf = (name: string) => `z${Number(name.split('-')[1]) % 3}`;
  for (const r of plan.replicas) assert.notEqual(zoneOf(r.pod), zoneOf(r.of), `${r.pod} not in ${r.of}'s zone`);
  assert.equal(new Set(plan.replicas.map((r) => r.of)).size, 3, 'one replica per master');
  // Two zones for three masters, each pod on its own node: still no replica in its master's zone.
  const two = bootstrapPlan(
    [0, 1, 2, 3, 4, 5].map((i) => ({ ...pod(i, `n${i}`), zone: `z${i % 2}` })),
    3,
    1,
  );
  const zone2 = (name: string) => `z${Number(name.split('-')[1]) % 2}`;
  for (const r of two.replicas) assert.notEqual(zone2(r.pod), zone2(r.of), `${r.pod} not in ${r.of}'s zone`);
});

const fresh = (keys = 0): NodeState => ({
  info: { cluster_known_nodes: '1', cluster_slots_assigned: '0', cluster_state: 'fail' },
  nodes: [],
  keys,
});
const member = (): NodeState => ({
  info: { cluster_known_nodes: '6', cluster_slots_assigned: '16384', cluster_state: 'ok' },
  nodes: [{ id: 'x', host: '10.0.0.1', port: 6379, flags: ['myself', 'master'], linkState: 'connected', slots: [] }],
  keys: 0,
});
const view = (self: number, states: NodeState[], extra: Partial<ClusterView> = {}): ClusterView => ({
  self: { name: `redis-${self}`, ordinal: self },
  redisPort: 6379,
  desired: 6,
  masters: 3,
  replicasPerMaster: 1,
  pods: states.map((_, i) => pod(i) as PodView),
  local: states[self],
  peers: Object.fromEntries(states.map((s, i) => [`redis-${i}`, s]).filter(([n]) => n !== `redis-${self}`)),
  ...extra,
});

test('the rules: wait for every pod, never flush data, the lowest ordinal or the Lease holder forms it', () => {
  const six = () => Array.from({ length: 6 }, () => fresh());
  assert.equal(clusterAction(view(0, six())).kind, 'bootstrap');
  assert.match(clusterAction(view(1, six())).reason, /redis-0 \(it has the lowest ordinal\) forms the cluster/);
  const five = six().slice(0, 5);
  assert.match(clusterAction({ ...view(0, five), desired: 6 }).reason, /^5 of 6 pods answer/);
  const data = six();
  data[4] = fresh(12);
  assert.match(clusterAction(view(0, data)).reason, /redis-4 holds keys .* never flushed to join/);
  assert.equal(clusterAction(view(1, six(), { bootstrapHolder: 'redis-1' })).kind, 'bootstrap', 'the holder forms it');
  assert.match(
    clusterAction(view(0, six(), { bootstrapHolder: 'redis-1' })).reason,
    /redis-1 \(it holds the bootstrap Lease\)/,
  );
});

test('the rules: a member meets members it does not know by address; a fresh pod is never joined implicitly', () => {
  const states = [member(), member(), fresh()];
  const v = { ...view(0, states), desired: 3 };
  // redis-1 is a member at an address redis-0 does not know (it came back with a new IP): met again.
  const a = clusterAction(v);
  assert.equal(a.kind, 'meet');
  assert.deepEqual(a.kind === 'meet' ? a.addresses : [], [{ host: '10.0.0.2', port: 6379 }]);
  // redis-2 is fresh while the cluster exists: it waits to be added.
  assert.match(clusterAction({ ...view(2, states), desired: 3 }).reason, /the cluster exists \(redis-0 is a member\)/);
  assert.equal(clusterAction({ ...v, local: undefined }).kind, 'none');
});

test('the rules: never formed twice; an unfinished bootstrap is run again; a lone node with keys is no member', () => {
  const six = () => Array.from({ length: 6 }, () => fresh());
  assert.match(
    clusterAction(view(0, six(), { formedAt: '2026-12-01T00:00:00Z' })).reason,
    /the cluster was formed at 2026-12-01T00:00:00Z\b.* a cluster is never formed twice/,
  );
  const half = Array.from({ length: 6 }, () => ({
    ...member(),
    info: { ...member().info, cluster_slots_assigned: '0' },
  }));
  assert.equal(clusterAction(view(0, half, { bootstrapHolder: 'redis-0' })).kind, 'bootstrap', 'the holder resumes');
  assert.notEqual(clusterAction(view(1, half, { bootstrapHolder: 'redis-0' })).kind, 'bootstrap');
  // The holder's own nodes.conf forgot the MEETs (killed before it was written) while its peers know each other:
  // it still finishes, and nobody else does; a stray peer with keys stops it; once formed, never again.
  const forgot = [fresh(), ...half.slice(1)];
  assert.equal(clusterAction(view(0, forgot, { bootstrapHolder: 'redis-0' })).kind, 'bootstrap');
  assert.equal(clusterAction(view(0, forgot)).kind, 'wait', 'without the Lease it is a fresh pod beside a cluster');
  const stray = [...half.slice(0, 5), fresh(9)];
  assert.notEqual(clusterAction(view(0, stray, { bootstrapHolder: 'redis-0' })).kind, 'bootstrap');
  // Finished but not recorded (the holder died after the last step; a cluster formed before the record existed):
  // only the record is written, no step runs on a cluster that serves.
  const whole = (): NodeState => ({
    ...member(),
    nodes: parseClusterNodes(
      [
        'a 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-16383',
        'b 10.0.0.2:6379@16379 slave a 0 0 1 connected',
      ].join('\n'),
    ),
  });
  const formed = clusterAction(view(0, [whole(), ...half.slice(1)], { bootstrapHolder: 'redis-0' }));
  assert.equal(formed.kind, 'formed', formed.reason);
  // A node met but not given a role yet (a master without slots) means unfinished: the holder resumes.
  const met = {
    ...whole(),
    nodes: [...whole().nodes, ...parseClusterNodes('c 10.0.0.3:6379@16379 master - 0 0 0 connected')],
  };
  assert.equal(clusterAction(view(0, [met, ...half.slice(1)], { bootstrapHolder: 'redis-0' })).kind, 'bootstrap');
  // A lone node that loaded enough keys to own every slot is still no member: it stops the resume.
  const loaded: NodeState = {
    info: { cluster_known_nodes: '1', cluster_slots_assigned: '16384', cluster_state: 'ok' },
    nodes: parseClusterNodes('d 10.0.0.6:6379@16379 myself,master - 0 0 0 connected 0-16383'),
    keys: 300_000,
  };
  assert.notEqual(
    clusterAction(view(0, [...half.slice(0, 5), loaded], { bootstrapHolder: 'redis-0' })).kind,
    'bootstrap',
  );
  const done = { bootstrapHolder: 'redis-0', formedAt: '2026-12-01T00:00:00Z' };
  assert.notEqual(clusterAction(view(0, half, done)).kind, 'bootstrap');
  assert.notEqual(clusterAction(view(0, [fresh(), ...half.slice(1)], done)).kind, 'bootstrap');
  // Redis gave a fresh node with keys the slots of its keys: alone, it is no cluster; it holds data.
  const lone = six();
  lone[3] = {
    info: { cluster_known_nodes: '1', cluster_slots_assigned: '12', cluster_state: 'fail' },
    nodes: [],
    keys: 40,
  };
  assert.match(clusterAction(view(0, lone)).reason, /redis-3 holds keys .* never flushed/);
});

test('SIGTERM on a master: its most up-to-date healthy replica takes over; nothing to hand over otherwise', () => {
  const state = (lines: string[]): NodeState => ({ info: {}, nodes: parseClusterNodes(lines.join('\n')), keys: 0 });
  const master = 'a1 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460';
  const cluster = state([
    master,
    'b2 10.0.0.2:6379@16379 slave a1 0 0 1 connected',
    'c3 10.0.0.3:6379@16379 slave a1 0 0 1 connected',
    'd4 10.0.0.4:6379@16379 slave,fail a1 0 0 1 disconnected',
    'e5 10.0.0.5:6379@16379 slave f6 0 0 1 connected',
  ]);
  const offsets = replicaOffsets({
    slave0: 'ip=10.0.0.2,port=6379,state=online,offset=90,lag=0',
    slave1: 'ip=10.0.0.3,port=6379,state=online,offset=100,lag=0',
    slave2: 'ip=10.0.0.4,port=6379,state=online,offset=500,lag=9',
    slave3: 'ip=10.0.0.9,port=6379,state=wait_bgsave,offset=0,lag=0',
  });
  assert.deepEqual(offsets, { '10.0.0.2:6379': 90, '10.0.0.3:6379': 100, '10.0.0.4:6379': 500 });
  const h = clusterHandover(cluster, offsets);
  assert.equal(h.kind, 'failover');
  assert.equal(h.kind === 'failover' && h.to.id, 'c3', 'the furthest healthy replica, not the failed one');
  assert.match(clusterHandover(undefined, {}).reason, /does not answer/);
  const replica = state(['a1 10.0.0.1:6379@16379 myself,slave b2 0 0 1 connected']);
  assert.match(clusterHandover(replica, {}).reason, /a replica/);
  const empty = state(['a1 10.0.0.1:6379@16379 myself,master - 0 0 1 connected']);
  assert.match(clusterHandover(empty, {}).reason, /serves no slot/);
  const alone = state([master, 'd4 10.0.0.4:6379@16379 slave,fail a1 0 0 1 disconnected']);
  assert.match(clusterHandover(alone, offsets).reason, /no healthy replica/);
  const drained = clusterHandover(cluster, offsets, ['10.0.0.3:6379']);
  assert.equal(drained.kind === 'failover' && drained.to.id, 'b2', 'not to a replica whose pod is going too');
  const syncing = state([master, 'b2 10.0.0.2:6379@16379 slave a1 0 0 1 connected']);
  assert.match(clusterHandover(syncing, {}).reason, /no healthy replica/, 'a replica not online yet is no heir');
});

test('a planned switchover to a named replica: that one if it is healthy, refused with the reason otherwise', () => {
  const state = (lines: string[]): NodeState => ({ info: {}, nodes: parseClusterNodes(lines.join('\n')), keys: 0 });
  const cluster = state([
    'a1 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460',
    'b2 10.0.0.2:6379@16379 slave a1 0 0 1 connected',
    'c3 10.0.0.3:6379@16379 slave a1 0 0 1 connected',
    'd4 10.0.0.4:6379@16379 slave,fail a1 0 0 1 disconnected',
  ]);
  const offsets = { '10.0.0.2:6379': 90, '10.0.0.3:6379': 100, '10.0.0.4:6379': 500 };
  const h = clusterHandover(cluster, offsets, [], 'b2');
  assert.equal(h.kind === 'failover' && h.to.id, 'b2', 'the one asked for, though c3 is further');
  assert.equal(
    clusterHandover(cluster, offsets, [], 'd4').reason,
    'd4 is not a healthy replica (linked and online) of this master',
  );
  assert.equal(clusterHandover(cluster, offsets, [], 'e5').kind, 'skip', 'not a replica of this master');
});

test('the bootstrap Lease: a holder that is gone or silent is taken over, its stored plan resumed', () => {
  const six = () => Array.from({ length: 6 }, () => fresh());
  const half = () =>
    Array.from({ length: 6 }, () => ({ ...member(), info: { ...member().info, cluster_slots_assigned: '0' } }));
  // No pod of that name, and its StatefulSet keeps no such ordinal (it won the race, then was scaled away): the
  // lowest ordinal takes the Lease over at once.
  const kept = { keptOrdinals: { start: 0, replicas: 6 } };
  const gone = clusterAction(view(0, six(), { bootstrapHolder: 'redis-9', ...kept }));
  assert.equal(gone.kind, 'bootstrap', gone.reason);
  assert.equal(gone.kind === 'bootstrap' && gone.takeOver, true);
  assert.match(gone.reason, /redis-9 holds the bootstrap Lease and no pod of that name exists or will .*: this pod/);
  assert.equal(clusterAction(view(1, six(), { bootstrapHolder: 'redis-9', ...kept })).kind, 'wait', 'the lowest');
  // A pod deleted and being recreated (its ordinal kept) resumes itself: not taken over before the Lease's time.
  const five = six().slice(0, 5);
  const recreated = { ...view(0, five, { bootstrapHolder: 'redis-5', ...kept }), desired: 5 };
  assert.equal(clusterAction(recreated).kind, 'wait');
  assert.equal(clusterAction({ ...recreated, holderSilentMs: BOOTSTRAP_LEASE_MS }).kind, 'bootstrap');
  // Its pod is there but does not answer: taken over only once the Lease has not changed for its duration.
  const silent = (ms: number) => {
    const states: (NodeState | undefined)[] = six();
    const v = view(0, states as NodeState[], { bootstrapHolder: 'redis-5', holderSilentMs: ms });
    return clusterAction({ ...v, desired: 5, peers: { ...v.peers, 'redis-5': undefined } });
  };
  assert.equal(silent(BOOTSTRAP_LEASE_MS - 1).kind, 'wait');
  assert.match(silent(BOOTSTRAP_LEASE_MS - 1).reason, /redis-5 holds the bootstrap Lease but does not answer/);
  assert.equal(silent(BOOTSTRAP_LEASE_MS).kind, 'bootstrap');
  // Half-way (the nodes met, no slot assigned) and its holder gone: resumed by the lowest ordinal, with the plan
  // the Lease stored, never a new one.
  const stored = bootstrapPlan(
    [0, 1, 2, 3, 4, 5].map((i) => pod(i)),
    3,
    1,
  );
  stored.replicas.reverse();
  const resumed = clusterAction(view(0, half(), { bootstrapHolder: 'redis-9', bootstrapPlan: stored, ...kept }));
  assert.equal(resumed.kind, 'bootstrap', resumed.reason);
  assert.deepEqual(resumed.kind === 'bootstrap' && resumed.plan, stored);
  assert.notEqual(clusterAction(view(1, half(), { bootstrapHolder: 'redis-9' })).kind, 'bootstrap');
  // The holder itself resumes its stored plan too; a stored plan with a pod that does not answer waits for it.
  const own = clusterAction(view(0, half(), { bootstrapHolder: 'redis-0', bootstrapPlan: stored }));
  assert.deepEqual(own.kind === 'bootstrap' && own.plan, stored);
  const wider = { ...stored, replicas: [...stored.replicas, { pod: 'redis-7', of: 'redis-0' }] };
  const waits = clusterAction(view(0, half(), { bootstrapHolder: 'redis-0', bootstrapPlan: wider }));
  assert.equal(waits.kind, 'wait');
  assert.match(waits.reason, /the stored bootstrap plan needs redis-7, which does not answer/);
});

test('the bootstrap Lease says formed but every pod is fresh and empty: the exact kubectl to start over', () => {
  const six = Array.from({ length: 6 }, () => fresh());
  const lease = { formedAt: '2026-12-01T00:00:00Z', bootstrapLease: 'mymaster-cluster', namespace: 'db' };
  const v = view(0, six, lease);
  const a = clusterAction(v);
  assert.equal(a.kind, 'wait');
  assert.match(
    a.reason,
    /^the Lease mymaster-cluster says the cluster was formed at 2026-12-01T00:00:00Z, but all 6 pods are fresh/,
  );
  assert.match(a.reason, /kubectl delete lease mymaster-cluster -n db$/);
  // One member left somewhere: no such advice (the cluster exists; this pod waits to be added).
  const one = [member(), ...six.slice(1)];
  assert.doesNotMatch(clusterAction(view(1, one, lease)).reason, /kubectl/);
});

test('a lone node serving every slot is a member only with a config epoch (the bootstrap sets one)', () => {
  // Redis 7.0 started in cluster mode on a Sentinel-mode volume takes every slot it has keys for (epoch 0).
  const loaded = (epoch: string): NodeState => ({
    info: {
      cluster_known_nodes: '1',
      cluster_slots_assigned: '16384',
      cluster_state: 'fail',
      cluster_my_epoch: epoch,
    },
    nodes: parseClusterNodes('d 10.0.0.1:6379@16379 myself,master - 0 0 0 connected 0-16383'),
    keys: 200_000,
  });
  assert.equal(inCluster(loaded('0')), false, 'the slots of its keys, taken on load');
  assert.equal(inCluster(loaded('1')), true, 'a cluster of one the bootstrap formed (SET-CONFIG-EPOCH 1)');
  // The cluster overlay applied over a Sentinel deployment's volumes: every pod loaded the same data.
  const all = Array.from({ length: 6 }, () => loaded('0'));
  const a = clusterAction(view(0, all));
  assert.equal(a.kind, 'wait');
  assert.match(a.reason, /hold keys and no cluster exists: a pod holding data is never flushed/);
});
