// Redis Cluster mode as a real cluster runs it, not as a tidy harness does: the pod of manifests/overlays/cluster
// (its startup, liveness and readiness probes run by a kubelet, its grace period, restarts of exited containers),
// the image's entrypoint chain (tini -> node -> the bundle; the kubelet signals PID 1 only), the overlay's RBAC,
// two pods Pending at first, and an API server that throttles every fourth write (429) and answers every read late.
// The cluster must wait for its Pending pods without a probe killing anyone, form once, and then survive a
// StatefulSet rolling update (highest ordinal first; each pod deleted, recreated with a new IP, and Ready by its
// readiness probe before the next) under continuous writes: each master hands its slots over on SIGTERM, no
// confirmed write is lost, every node keeps its ID, and the labels end true.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { testCluster } from '../support/cluster.ts';
import { imageEntrypoint } from '../support/image.ts';
import { ask } from '../support/redis.ts';
import { confirmed, healthy, labelsTrue, nodesOf, clusterClientWith } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';
import { ClusterWriter } from '../support/writer.ts';

const PODS = [0, 1, 2, 3, 4, 5];
const KEYS = 2000;

test(
  'cluster mode through the image entrypoint, the overlay pod probes and a throttling API: it waits for Pending ' +
    'pods, forms once, and a rolling update hands every master over with no confirmed write lost',
  async (t) => {
    const { api, c } = await testCluster(t, 'cluster-rollout', async (root) => ({
      entrypoint: (await imageEntrypoint(join(root, 'dist'))).entrypoint,
      containers: 'redis',
      manifests: 'overlays/cluster',
      probes: { timeScale: 0.2 },
      rbacFromManifests: 'overlays/cluster',
      // As the overlay's container sets them.
      env: {
        CLUSTER_MODE: 'true',
        CLUSTER_MASTERS: '3',
        CLUSTER_REPLICAS_PER_MASTER: '1',
        CLUSTER_NODE_TIMEOUT_MS: '5000',
      },
    }));
    let writes = 0;
    const throttled = api.faults.add({
      method: 'PATCH',
      path: /\/(pods|leases)\//,
      match: () => ++writes % 4 === 0,
      status: 429,
    });
    const slow = api.faults.add({ method: 'GET', match: (r) => r.query.get('watch') !== 'true', delayMs: 300 });

    // Four pods run, two are Pending (a volume attaching): nobody forms a cluster, nobody is Ready, no probe kills.
    await c.startAll(PODS, { pending: [4, 5] });
    const liveness = (name: string) => c.kubelet.probes.filter((r) => r.pod === name && r.probe === 'liveness');
    for (const i of [0, 1, 2, 3]) {
      await waitFor(`redis-${i} probed for liveness 4 times`, () => liveness(`redis-${i}`).length >= 4, 40_000);
    }
    const kills = () => c.kubelet.kills.map((k) => `${k.pod}/${k.container} by ${k.reason}`);
    assert.deepEqual(kills(), [], 'a waiting container was killed');
    assert.ok(
      [0, 1, 2, 3].every((i) => !c.isReady(i)),
      'nobody is Ready while the cluster waits',
    );
    for (const i of [0, 1, 2, 3]) {
      const info = String(await ask(c.pod(i).ip, 6379, 'CLUSTER', 'INFO'));
      assert.match(info, /cluster_slots_assigned:0\b/, `redis-${i} serves no slot yet`);
    }
    const role = await c.launcherRole(0);
    assert.match(role.stdout, /4 of 6 pods answer/, role.stdout + role.stderr);

    await c.startPod(4);
    await c.startPod(5);
    await Promise.all(PODS.map((i) => c.waitReady(i, 90_000)));
    const ids = await healthy(c, 'the cluster formed', 60_000);
    await labelsTrue(c, 'labels equal the roles');
    // Written after the last step, through the same throttling API: a 429 is tried again in the next cycle.
    await waitFor(
      'the Lease records the formation',
      () =>
        api.getObject('leases', c.ns, 'mymaster-cluster')?.metadata.annotations?.['redis-ha-launcher/cluster-formed'],
      20_000,
    );
    assert.ok(throttled.hits > 0 && slow.hits > 0, `the API misbehaved: ${throttled.hits} 429s, ${slow.hits} late`);

    const client = await clusterClientWith(t, c, KEYS);
    await confirmed(c);
    const writer = new ClusterWriter(client);
    t.after(() => writer.stop());
    await waitFor('writes confirmed', () => writer.confirmed.length > 50, 20_000);

    // The rolling update, as the StatefulSet controller runs it.
    const steps: string[] = [];
    for (const i of [...PODS].reverse()) {
      const old = c.pod(i);
      const wasMaster = (await nodesOf(c, i))?.find((n) => n.flags.includes('myself'))?.flags.includes('master');
      const t0 = Date.now();
      await c.recreatePod(i, 'term');
      const exit = await old.redis?.exited;
      const stoppedMs = Date.now() - t0;
      await c.waitReady(i, 90_000);
      const gap = gapIn(writer.confirmedAt, t0, Date.now());
      steps.push(
        `${old.name} (${wasMaster ? 'master' : 'replica'}): stopped in ${stoppedMs} ms, longest gap ${gap} ms`,
      );
      assert.equal(exit?.exitCode, 0, `${old.name}'s container exited 0:\n${old.redis?.tail.join('\n')}`);
      if (wasMaster) {
        const kept = JSON.parse(await readFile(join(old.dir, 'data', '.redis-ha-launcher-handover.json'), 'utf8'));
        assert.equal(kept.result, 'done', `${old.name} handed over: ${kept.why}`);
      }
    }
    t.diagnostic(`rolling update: ${steps.join('; ')}`);
    t.diagnostic(`the API answered ${throttled.hits} writes 429 and ${slow.hits} reads 300 ms late`);

    const after = await healthy(c, 'the cluster after the rolling update', 60_000);
    assert.deepEqual(Object.fromEntries(after), Object.fromEntries(ids), 'every node ID kept');
    await labelsTrue(c, 'labels true after the rolling update');
    await writer.stop();
    const values = await Promise.all(writer.confirmed.map((k) => client.get(k)));
    const lost = writer.confirmed.filter((k, i) => values[i] !== k.slice(5));
    t.diagnostic(
      `writes during the rollout: ${writer.confirmed.length} confirmed, ${writer.failures} not, longest gap ` +
        `${writer.maxGapMs()} ms`,
    );
    assert.deepEqual(lost, [], 'no write a replica confirmed was lost');
    assert.equal(await client.get(`k:${KEYS - 1}`), String(KEYS - 1), 'the keys written first are there');
    assert.deepEqual(kills(), [], 'no container was killed by a probe');
    assert.deepEqual(
      c.kubelet.restarts.map((r) => `${r.pod}/${r.container}: ${r.cause}`),
      [],
      'no container exited and was restarted',
    );
    const status = await c.statusHealthy(0);
    assert.match(status.stdout, /verdict: healthy \(3 masters, 16384 slots served\)/);
  },
);

/** The longest time without a confirmed write between `from` and `to` (both ends count as edges). */
function gapIn(at: number[], from: number, to: number): number {
  const inside = [from, ...at.filter((x) => x > from && x < to), to];
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i] - inside[i - 1]);
  return gap;
}
