// The configuration contract: every setting is an env var and a flag, with a default and a meaning.
// One table drives commander's options, `--help`, validation (config/parse.ts) and the README's configuration
// section.

export const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export type Setting = { env: string; flag: string; default?: string; help: string };

export const SETTINGS = [
  { env: 'POD_NAME', flag: 'pod-name', help: "this pod's name (downward API metadata.name); fallback HOSTNAME" },
  {
    env: 'POD_NAMESPACE',
    flag: 'pod-namespace',
    help: `this pod's namespace; fallback the service-account file ${SA_NAMESPACE_FILE}`,
  },
  {
    env: 'POD_IP',
    flag: 'pod-ip',
    help:
      "this pod's IP (downward API status.podIP; or status.podIPs on dual stack: the first, the primary family, " +
      'is used); announced to replicas and Sentinels',
  },
  {
    env: 'REDIS_MASTER_SET',
    flag: 'master-set',
    default: 'mymaster',
    help: 'Sentinel master-set name; give each deployment its own',
  },
  {
    env: 'REDIS_POD_SELECTOR',
    flag: 'pod-selector',
    help: "label selector of this set's Redis pods (required, except in a Sentinel pod with SENTINEL_WATCH_SELECTOR)",
  },
  {
    env: 'SENTINEL_POD_SELECTOR',
    flag: 'sentinel-selector',
    help: 'label selector of the Sentinel pods; default REDIS_POD_SELECTOR (Sentinel as a sidecar)',
  },
  {
    env: 'SENTINEL_WATCH_SELECTOR',
    flag: 'watch-selector',
    help:
      'dedicated Sentinel pods only: label selector of the Redis StatefulSets to monitor, one master set each ' +
      '(names and timings from their redis-ha-launcher/* annotations); sets come and go without a restart',
  },
  {
    env: 'REDIS_HOSTNAMES',
    flag: 'hostnames',
    default: 'false',
    help:
      "announce and resolve the pods' DNS names (<pod>.<service>.<namespace>.svc.<domain>) instead of their IPs: " +
      'a pod that comes back with a new IP keeps its identity (needs per-pod DNS: a headless Service)',
  },
  {
    env: 'REDIS_HEADLESS_SERVICE',
    flag: 'headless-service',
    help: "with REDIS_HOSTNAMES: the headless Service of this pod's StatefulSet (its serviceName), for its own name",
  },
  { env: 'CLUSTER_DOMAIN', flag: 'cluster-domain', default: 'cluster.local', help: "the cluster's DNS domain" },
  { env: 'REDIS_PORT', flag: 'redis-port', default: '6379', help: 'Redis port' },
  { env: 'SENTINEL_PORT', flag: 'sentinel-port', default: '26379', help: 'Sentinel port' },
  {
    env: 'SENTINEL_QUORUM',
    flag: 'quorum',
    default: '2',
    help: 'Sentinels that must agree (monitor quorum, and for the launcher to trust them)',
  },
  { env: 'SENTINEL_DOWN_AFTER_MS', flag: 'down-after-ms', default: '5000', help: 'sentinel down-after-milliseconds' },
  {
    env: 'SENTINEL_FAILOVER_TIMEOUT_MS',
    flag: 'failover-timeout-ms',
    default: '10000',
    help: 'sentinel failover-timeout',
  },
  { env: 'SENTINEL_PARALLEL_SYNCS', flag: 'parallel-syncs', default: '1', help: 'sentinel parallel-syncs' },
  {
    env: 'REDIS_DATA_DIR',
    flag: 'data-dir',
    default: '/data',
    help: 'Redis data directory (a PVC); its RDB/AOF files are what "has data" means',
  },
  {
    env: 'REDIS_CONF_DIR',
    flag: 'conf-dir',
    default: '/etc/redis-ha',
    help: 'writable directory (emptyDir) for the generated redis.conf / sentinel.conf',
  },
  {
    env: 'REDIS_EXTRA_CONF',
    flag: 'extra-conf',
    help: "optional user file included at the top of redis.conf (the launcher's own lines win)",
  },
  {
    env: 'REDIS_PASSWORD_FILE',
    flag: 'password-file',
    help: 'optional file holding the Redis password (a mounted Secret); enables requirepass/masterauth/auth-pass',
  },
  {
    env: 'REDIS_ACL_LAUNCHER_PASSWORD_FILE',
    flag: 'acl-launcher-password-file',
    help:
      'optional: Redis gets an ACL user `launcher` with this password and only the commands the launcher sends; ' +
      'the launcher uses it instead of the default user (needs REDIS_PASSWORD_FILE)',
  },
  {
    env: 'REDIS_ACL_REPLICATION_PASSWORD_FILE',
    flag: 'acl-replication-password-file',
    help:
      'optional: an ACL user `replication` (PSYNC, REPLCONF, PING) that replicas authenticate as (masteruser / ' +
      'masterauth) (needs REDIS_PASSWORD_FILE)',
  },
  {
    env: 'REDIS_ACL_SENTINEL_PASSWORD_FILE',
    flag: 'acl-sentinel-password-file',
    help:
      "optional: an ACL user `sentinel` with the commands Sentinel needs, for Sentinel's connections to Redis " +
      '(sentinel auth-user / auth-pass) (needs REDIS_PASSWORD_FILE)',
  },
  {
    env: 'REDIS_PASSWORD_GRACE_MS',
    flag: 'password-grace-ms',
    default: '300000',
    help:
      'after a password rotation (the REDIS_PASSWORD_FILE content changes), how long every server keeps accepting ' +
      'the old password too once all pods accept the new one, so clients can move',
  },
  {
    env: 'REDIS_TLS_DIR',
    flag: 'tls-dir',
    help:
      'optional: a directory holding tls.crt, tls.key and ca.crt (a cert-manager Secret): Redis and Sentinel then ' +
      'speak TLS only, on REDIS_PORT and SENTINEL_PORT (plaintext off), replication and Sentinel included, and so ' +
      'does the launcher',
  },
  {
    env: 'REDIS_TLS_AUTH_CLIENTS',
    flag: 'tls-auth-clients',
    default: 'no',
    help: 'with REDIS_TLS_DIR: whether clients must present a certificate signed by ca.crt (yes, optional or no)',
  },
  {
    env: 'SENTINEL_PASSWORD_FILE',
    flag: 'sentinel-password-file',
    help:
      "optional file holding Sentinel's own password (requirepass of every Sentinel; they use it with each other " +
      'and every client must AUTH). Unset: the REDIS_PASSWORD_FILE password protects Sentinel too',
  },
  {
    env: 'REDIS_MIN_REPLICAS_TO_WRITE',
    flag: 'min-replicas-to-write',
    default: '0',
    help:
      'a master refuses writes unless this many replicas are linked and lag at most REDIS_MIN_REPLICAS_MAX_LAG s ' +
      '(min-replicas-to-write): bounds the writes a master cut off from its replicas takes and loses; 0 off',
  },
  {
    env: 'REDIS_MIN_REPLICAS_MAX_LAG',
    flag: 'min-replicas-max-lag',
    default: '10',
    help: 'seconds since a replica last acknowledged, for REDIS_MIN_REPLICAS_TO_WRITE (min-replicas-max-lag)',
  },
  {
    env: 'REDIS_REPLICA_PRIORITY',
    flag: 'replica-priority',
    default: '100',
    help:
      "Sentinel's preference among replicas when it fails over (replica-priority; lower wins, 0 never). A pod that " +
      'starts as the replica of a master holding data has 0 until its first full sync: never promoted stale',
  },
  {
    env: 'REDIS_SERVER_BIN',
    flag: 'redis-server-bin',
    help:
      'the server: valkey-server or redis-server (a name on PATH or a path). Unset: valkey-server if on PATH, else ' +
      'redis-server; Sentinel, the CLI and the AOF checker are taken from the same family, beside it',
  },
  {
    env: 'REDIS_SENTINEL_BIN',
    flag: 'redis-sentinel-bin',
    help: "the Sentinel executable; unset: the server's family's (valkey-sentinel or redis-sentinel), beside it",
  },
  {
    env: 'LISTEN_ADDRESS',
    flag: 'listen-address',
    help:
      'address Redis/Sentinel bind and connect from; default all interfaces. Set to the pod IP when pods share ' +
      'a host',
  },
  { env: 'SENTINEL', flag: 'sentinel', help: 'true: run Sentinel instead of Redis (same as --sentinel)' },
  {
    env: 'MASTER_RECORD_NAME',
    flag: 'master-record',
    help: 'name of the coordination.k8s.io Lease that keeps the master of record; default <master-set>-master',
  },
  {
    env: 'LAUNCHER_WAIT_TIMEOUT_MS',
    flag: 'wait-timeout-ms',
    default: '300000',
    help: 'how long `run` waits for a safe decision before exiting 1 (the kubelet restarts it)',
  },
  {
    env: 'REDIS_STOP_TIMEOUT_MS',
    flag: 'stop-timeout-ms',
    default: '25000',
    help:
      'after SIGTERM, how long Redis may take to save and stop before SIGKILL; keep below ' +
      'terminationGracePeriodSeconds',
  },
  {
    env: 'LAUNCHER_PROMOTE_SCRIPT',
    flag: 'promote-script',
    help: 'executable Sentinel runs as client-reconfig-script; default launcher-promote beside the launcher',
  },
  {
    env: 'PROBE_TIMEOUT_MS',
    flag: 'probe-timeout-ms',
    default: '1500',
    help: 'deadline of each one-shot Redis/Sentinel probe',
  },
  {
    env: 'LAUNCHER_HTTP_PORT',
    flag: 'http-port',
    help: 'port of /healthz, /readyz, /metrics on LISTEN_ADDRESS; default 8080 (Redis) or 8081 (Sentinel); 0 disables',
  },
  {
    env: 'LAUNCHER_RECONCILE_MS',
    flag: 'reconcile-ms',
    default: '5000',
    help: 'how often the supervisor re-checks labels and split brain (also at once when Redis changes role)',
  },
  {
    env: 'HANDOVER_TIMEOUT_MS',
    flag: 'handover-timeout-ms',
    default: '15000',
    help: 'on SIGTERM, how long a master waits for Sentinel to name another master before stopping anyway',
  },
  {
    env: 'SENTINEL_HYGIENE_MS',
    flag: 'hygiene-ms',
    default: '30000',
    help:
      'how often a Sentinel checks for entries of addresses no pod has (then SENTINEL RESET, one Sentinel at a ' +
      'time)',
  },
  {
    env: 'SENTINEL_INFO_PERIOD_MS',
    flag: 'info-period-ms',
    default: '1000',
    help:
      "how often a Sentinel reads its instances' INFO, 1000 to 10000 (Sentinel's own); at 1000 a planned handover " +
      'sees its promotion within a second',
  },
  {
    env: 'CLUSTER_MODE',
    flag: 'cluster',
    help: 'run Redis Cluster (sharded) instead of Sentinel mode [or launcher run --cluster]',
  },
  {
    env: 'CLUSTER_MASTERS',
    flag: 'cluster-masters',
    default: '3',
    help: 'cluster mode: how many masters (shards) the first bootstrap forms',
  },
  {
    env: 'CLUSTER_REPLICAS_PER_MASTER',
    flag: 'cluster-replicas',
    default: '1',
    help: 'cluster mode: replicas per master; the bootstrap waits for masters x (1 + this) pods',
  },
  {
    env: 'CLUSTER_NODE_TIMEOUT_MS',
    flag: 'cluster-node-timeout-ms',
    default: '5000',
    help: 'cluster mode: cluster-node-timeout (a master unreachable this long is failed over by its replica)',
  },
  {
    env: 'CLUSTER_MIGRATION_BARRIER',
    flag: 'cluster-migration-barrier',
    default: '1',
    help:
      'cluster mode: a master left without a replica gets one from a master that keeps at least this many ' +
      '(replica migration, done by Redis); 0 turns it off',
  },
  {
    env: 'CLUSTER_PREFERRED_ENDPOINT',
    flag: 'cluster-preferred-endpoint',
    default: 'ip',
    help:
      'cluster mode: what MOVED and CLUSTER SLOTS hand clients for a node, ip or hostname (needs REDIS_HOSTNAMES; ' +
      'Redis 7.0 hands out "?" for a node whose name it has not learnt yet, and some clients cannot follow names)',
  },
  {
    env: 'CLUSTER_REQUIRE_FULL_COVERAGE',
    flag: 'cluster-require-full-coverage',
    default: 'true',
    help:
      'cluster mode: while any slot is served by no node (a shard lost), every node refuses all keys ' +
      '(cluster-require-full-coverage); false: the other shards keep serving theirs',
  },
  {
    env: 'FENCE_AFTER_MS',
    flag: 'fence-after-ms',
    help:
      'a master no majority of the Sentinels has named for this long pauses writes (CLIENT PAUSE WRITE) until they ' +
      'name it again or it is a replica: bounds what it takes in a partition; default half of ' +
      'SENTINEL_DOWN_AFTER_MS; 0 never',
  },
  {
    env: 'LOADING_HANDOVER_BYTES',
    flag: 'loading-handover-bytes',
    default: '268435456',
    help:
      'a master that restarts before Sentinel noticed, with data files larger than this, asks Sentinel to fail ' +
      'over to its replica instead of loading as master (writes would stop for the load); 0 never',
  },
] as const satisfies readonly Setting[];

export type SettingEnv = (typeof SETTINGS)[number]['env'];
export type CommandName =
  'run' | 'role' | 'probe' | 'promote' | 'status' | 'switchover' | 'pause' | 'resume' | 'cluster';

/** Settings that only some commands read; every other setting is read by all of them. */
const ONLY: Partial<Record<SettingEnv, CommandName[]>> = {
  // `status` looks at the whole set from anywhere: it is no pod itself.
  POD_NAME: ['run', 'role', 'probe', 'promote'],
  POD_IP: ['run', 'role', 'probe', 'promote'],
  LISTEN_ADDRESS: ['run', 'role', 'probe', 'promote'],
  SENTINEL_DOWN_AFTER_MS: ['run'],
  SENTINEL_FAILOVER_TIMEOUT_MS: ['run'],
  SENTINEL_PARALLEL_SYNCS: ['run'],
  REDIS_DATA_DIR: ['run', 'role'],
  REDIS_CONF_DIR: ['run'],
  REDIS_EXTRA_CONF: ['run'],
  REDIS_MIN_REPLICAS_TO_WRITE: ['run'],
  REDIS_MIN_REPLICAS_MAX_LAG: ['run'],
  REDIS_REPLICA_PRIORITY: ['run'],
  REDIS_SERVER_BIN: ['run'],
  REDIS_SENTINEL_BIN: ['run'],
  SENTINEL: ['run', 'probe', 'role'],
  LAUNCHER_WAIT_TIMEOUT_MS: ['run'],
  REDIS_STOP_TIMEOUT_MS: ['run'],
  LAUNCHER_PROMOTE_SCRIPT: ['run'],
  LAUNCHER_HTTP_PORT: ['run'],
  LAUNCHER_RECONCILE_MS: ['run'],
  HANDOVER_TIMEOUT_MS: ['run'],
  SENTINEL_HYGIENE_MS: ['run'],
  SENTINEL_INFO_PERIOD_MS: ['run'],
  LOADING_HANDOVER_BYTES: ['run', 'role'],
  FENCE_AFTER_MS: ['run'],
  CLUSTER_MODE: ['run', 'role', 'status', 'probe', 'cluster'],
  CLUSTER_MASTERS: ['run', 'role', 'status', 'cluster'],
  CLUSTER_REPLICAS_PER_MASTER: ['run', 'role', 'status', 'cluster'],
  CLUSTER_NODE_TIMEOUT_MS: ['run', 'role', 'cluster'],
  CLUSTER_MIGRATION_BARRIER: ['run'],
  CLUSTER_PREFERRED_ENDPOINT: ['run'],
  CLUSTER_REQUIRE_FULL_COVERAGE: ['run'],
  SENTINEL_WATCH_SELECTOR: ['run', 'role', 'promote', 'probe'],
};

/** The settings a command reads: what its --help lists. */
export const settingsFor = (cmd: CommandName): readonly Setting[] =>
  SETTINGS.filter((s) => ONLY[s.env]?.includes(cmd) ?? true);
