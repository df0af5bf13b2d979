// Prometheus metrics (prom-client), one registry per process. Each container exports only what it measures: a
// gauge it never set would read 0 and fire an alert (a Sentinel container has no label to match, a Redis container
// no quorum to check).
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

function common() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'redis_ha_launcher_' });
  const role = new Gauge({
    name: 'redis_ha_role',
    help: '1 for the role Redis reports (master, slave, sentinel, unknown)',
    labelNames: ['role'],
    registers: [registry],
  });
  return { registry, role };
}

/** The Redis container's metrics (launcher run). */
export function createRedisMetrics() {
  const base = common();
  const { registry } = base;
  return {
    ...base,
    offset: new Gauge({
      name: 'redis_ha_replication_offset_bytes',
      help: 'replication offset Redis reports (ROLE)',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'redis_ha_replication_lag_bytes',
      help: 'replica: bytes behind the master (master offset minus own); master: largest lag of its replicas',
      registers: [registry],
    }),
    ready: new Gauge({ name: 'redis_ha_ready', help: '1 when the readiness rule holds', registers: [registry] }),
    actions: new Counter({
      name: 'redis_ha_reconcile_actions_total',
      help: 'actions taken by the supervisor',
      labelNames: ['action'],
      registers: [registry],
    }),
    promotions: new Counter({
      name: 'redis_ha_promotions_total',
      help: 'times this pod became master while running',
      registers: [registry],
    }),
    heals: new Counter({
      name: 'redis_ha_split_brain_heals_total',
      help: 'stale masters turned into replicas',
      registers: [registry],
    }),
    handovers: new Counter({
      name: 'redis_ha_handovers_total',
      help: 'mastership handovers on shutdown, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    previousHandover: new Gauge({
      name: 'redis_ha_previous_handover_timestamp_seconds',
      help: 'when the previous run of this container stopped as master, by the result of its handover',
      labelNames: ['result'],
      registers: [registry],
    }),
    labelMatchesRole: new Gauge({
      name: 'redis_ha_label_matches_role',
      help: "1 when the pod's redis-role label agrees with the ROLE Redis reports",
      registers: [registry],
    }),
    labelledMaster: new Gauge({
      name: 'redis_ha_labelled_master',
      help: '1 when the pod carries redis-role=master (more than one in a set: two masters for the Service)',
      registers: [registry],
    }),
    masterLinkUp: new Gauge({
      name: 'redis_ha_master_link_up',
      help: 'replica: 1 when its link to the master is connected; master: 1',
      registers: [registry],
    }),
    fenced: new Gauge({
      name: 'redis_ha_fenced',
      help: '1 while this master has paused its writes: no majority of the Sentinels names it (FENCE_AFTER_MS)',
      registers: [registry],
    }),
    paused: new Gauge({
      name: 'redis_ha_paused',
      help: '1 while the set is in maintenance mode (launcher pause)',
      registers: [registry],
    }),
    decisionSeconds: new Gauge({
      name: 'redis_ha_last_decision_duration_seconds',
      help: 'duration of the last observe+decide cycle',
      registers: [registry],
    }),
  };
}

/** The Sentinel container's metrics (launcher run --sentinel). */
export function createSentinelMetrics() {
  const base = common();
  const { registry } = base;
  return {
    ...base,
    sentinelResets: new Counter({
      name: 'redis_ha_sentinel_resets_total',
      help: 'SENTINEL RESET run to drop stale entries',
      registers: [registry],
    }),
    sentinelQuorumOk: new Gauge({
      name: 'redis_ha_sentinel_quorum_ok',
      help: 'Sentinel container: 1 when SENTINEL CKQUORUM is OK',
      registers: [registry],
    }),
  };
}

export type RedisMetrics = ReturnType<typeof createRedisMetrics>;
export type SentinelMetrics = ReturnType<typeof createSentinelMetrics>;

export function setRole(m: { role: Gauge }, role: string) {
  for (const r of ['master', 'slave', 'sentinel', 'unknown']) m.role.set({ role: r }, r === role ? 1 : 0);
}
