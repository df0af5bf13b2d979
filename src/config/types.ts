// What the configuration is once parsed (config/parse.ts builds it): the settings of this process.

export type Config = {
  podName: string;
  namespace: string;
  /**
   * How the other pods and Sentinel reach this pod: its IP, or with REDIS_HOSTNAMES its DNS name (as PodView.ip,
   * which holds a pod's name in that mode too).
   */
  podHost: string;
  /** This pod's IP, in every mode (as PodView.podIp): what Redis Cluster announces. */
  podIp: string;
  masterSet: string;
  podSelector: string;
  sentinelSelector: string;
  sentinelSidecar: boolean;
  /**
   * REDIS_HOSTNAMES: pods are addressed by their DNS names (podHost then holds this pod's name, and every
   * PodView's ip its pod's), under this cluster domain.
   */
  hostnames?: { domain: string };
  /** SENTINEL_WATCH_SELECTOR: this dedicated Sentinel monitors every Redis StatefulSet it selects. */
  watchSelector?: string;
  redisPort: number;
  sentinelPort: number;
  quorum: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
  parallelSyncs: number;
  dataDir: string;
  confDir: string;
  extraConf?: string;
  password?: string;
  /** Where the password is read from (rotated in place when it changes), and how long the old one stays valid. */
  passwordFile?: string;
  passwordGraceMs: number;
  /** SENTINEL_PASSWORD_FILE is set: Sentinel's password is its own, not the Redis one (rotated with it). */
  sentinelOwnPassword: boolean;
  /** Passwords of the optional ACL users (REDIS_ACL_*_PASSWORD_FILE); the default user keeps `password`. */
  acl: { launcher?: string; replication?: string; sentinel?: string };
  /** REDIS_TLS_DIR's files (paths for the servers, contents for the launcher's own connections). */
  tls?: TlsFiles;
  /** Sentinel's requirepass (SENTINEL_PASSWORD_FILE, else the Redis password). */
  sentinelPassword?: string;
  minReplicasToWrite: number;
  minReplicasMaxLag: number;
  replicaPriority: number;
  redisServerBin: string;
  redisSentinelBin: string;
  /** The engine's CLI (valkey-cli, redis-cli) and AOF checker, of the server's family. */
  cliBin: string;
  checkAofBin: string;
  /** How the server was chosen, in words (launcher role says it). */
  engineWhy: string;
  listenAddress?: string;
  sentinelMode: boolean;
  /** CLUSTER_MODE / run --cluster: Redis Cluster, its shape and node timeout. */
  cluster?: {
    masters: number;
    replicasPerMaster: number;
    nodeTimeoutMs: number;
    migrationBarrier: number;
    /** What MOVED, ASK and CLUSTER SLOTS hand out for a node (cluster-preferred-endpoint-type). */
    preferredEndpoint: 'ip' | 'hostname';
    /** cluster-require-full-coverage: every node stops serving while any slot is served by no node. */
    requireFullCoverage: boolean;
  };
  masterRecord: string;
  waitTimeoutMs: number;
  stopTimeoutMs: number;
  promoteScript: string;
  probeTimeoutMs: number;
  httpPort: number;
  reconcileMs: number;
  handoverTimeoutMs: number;
  hygieneMs: number;
  /** SENTINEL DEBUG INFO-PERIOD: how often a Sentinel reads its instances' INFO. */
  sentinelInfoPeriodMs: number;
  loadingHandoverBytes: number;
  fenceAfterMs: number;
};

export type TlsFiles = {
  dir: string;
  cert: string;
  key: string;
  ca: string;
  authClients: 'yes' | 'optional' | 'no';
  /** What the launcher presents and trusts, read at start. */
  pem: { cert: string; key: string; ca: string };
};

/** A bad setting: one line naming the variable, the value and what is expected. Exit code 2. */
export class ConfigError extends Error {}
