// Redis Cluster mode's readiness rule (src/cluster/rules/readiness.ts), a pure function of one node's view.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClusterNodes, type NodeState } from '../../src/cluster/rules/nodes.ts';
import { clusterReady } from '../../src/cluster/rules/readiness.ts';

const LINES = [
  'a 10.0.0.1:6379@16379 master - 0 0 1 connected 0-5460',
  'b 10.0.0.2:6379@16379 master - 0 0 2 connected 5461-10922',
  'c 10.0.0.3:6379@16379 master - 0 0 3 connected 10923-16383',
  'd 10.0.0.4:6379@16379 slave a 0 0 1 connected',
];
const view = (me: string, state: string, edit = (l: string) => l): NodeState => ({
  info: { cluster_state: state, cluster_known_nodes: '4', cluster_slots_assigned: '16384' },
  nodes: parseClusterNodes(
    LINES.map((l) => edit(l.startsWith(`${me} `) ? l.replace(/ (master|slave) /, ' myself,$1 ') : l)).join('\n'),
  ),
  keys: 0,
});

test('cluster readiness: a node doing its part in an ok cluster is Ready; otherwise why not, in words', () => {
  assert.deepEqual(clusterReady(view('a', 'ok'), undefined), { ok: true, reason: 'a master serving 5461 slots' });
  assert.equal(clusterReady(view('d', 'ok'), 'up').ok, true);
  assert.deepEqual(clusterReady(view('d', 'ok'), 'down'), { ok: false, reason: 'a replica whose link is down' });
  assert.deepEqual(clusterReady(undefined, undefined), { ok: false, reason: 'Redis does not answer' });
  // Just restarted, not taken back yet: nobody is failed, the state is not ok.
  assert.deepEqual(clusterReady(view('a', 'fail'), undefined), { ok: false, reason: 'cluster_state:fail' });
});

test('cluster readiness: another shard lost (no replica took over) keeps the others Ready; cut off does not', () => {
  const lostC = (l: string) => (l.startsWith('c ') ? l.replace(' master ', ' master,fail ') : l);
  const a = clusterReady(view('a', 'fail', lostC), undefined);
  assert.equal(a.ok, true);
  assert.match(a.reason, /cluster_state:fail only because the shard of 10\.0\.0\.3:6379 is lost/);
  assert.equal(clusterReady(view('d', 'fail', lostC), 'up').ok, true, 'a replica of a live shard too');
  // Two of three masters failing as this node sees it: it may be the one cut off.
  const cut = (l: string) => (/^[bc] /.test(l) ? l.replace(' master ', ' master,fail ') : l);
  assert.equal(clusterReady(view('a', 'fail', cut), undefined).ok, false);
  // A suspicion only (fail?), not the cluster's verdict: not Ready yet.
  const suspected = (l: string) => (l.startsWith('c ') ? l.replace(' master ', ' master,fail? ') : l);
  assert.equal(clusterReady(view('a', 'fail', suspected), undefined).ok, false);
});
