// The configuration contract: every setting is an env var and a flag, with a default and a meaning.
// One table drives commander's options, `--help`, validation and the README's configuration section.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { canonicalHost } from './model.ts';

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
      'starts empty as the replica of a master holding data has 0 until its first full sync: never promoted empty',
  },
  { env: 'REDIS_SERVER_BIN', flag: 'redis-server-bin', default: 'redis-server', help: 'redis-server executable' },
  {
    env: 'REDIS_SENTINEL_BIN',
    flag: 'redis-sentinel-bin',
    default: 'redis-sentinel',
    help: 'redis-sentinel executable',
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
  LOADING_HANDOVER_BYTES: ['run', 'role'],
  FENCE_AFTER_MS: ['run'],
  CLUSTER_MODE: ['run', 'role', 'status', 'probe', 'cluster'],
  CLUSTER_MASTERS: ['run', 'role', 'status', 'cluster'],
  CLUSTER_REPLICAS_PER_MASTER: ['run', 'role', 'status', 'cluster'],
  CLUSTER_NODE_TIMEOUT_MS: ['run', 'role', 'cluster'],
  CLUSTER_MIGRATION_BARRIER: ['run'],
  SENTINEL_WATCH_SELECTOR: ['run', 'role', 'promote', 'probe'],
};

/** The settings a command reads: what its --help lists. */
export const settingsFor = (cmd: CommandName): readonly Setting[] =>
  SETTINGS.filter((s) => ONLY[s.env]?.includes(cmd) ?? true);

export type Config = {
  podName: string;
  namespace: string;
  podIp: string;
  /** This pod's IP, also in hostnames mode (where podIp is its name): what Redis Cluster announces. */
  podIpAddress: string;
  masterSet: string;
  podSelector: string;
  sentinelSelector: string;
  sentinelSidecar: boolean;
  /**
   * REDIS_HOSTNAMES: pods are addressed by their DNS names (podIp then holds this pod's name, and every PodView's
   * ip its pod's), under this cluster domain.
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
  listenAddress?: string;
  sentinelMode: boolean;
  /** CLUSTER_MODE / run --cluster: Redis Cluster, its shape and node timeout. */
  cluster?: { masters: number; replicasPerMaster: number; nodeTimeoutMs: number; migrationBarrier: number };
  masterRecord: string;
  waitTimeoutMs: number;
  stopTimeoutMs: number;
  promoteScript: string;
  probeTimeoutMs: number;
  httpPort: number;
  reconcileMs: number;
  handoverTimeoutMs: number;
  hygieneMs: number;
  loadingHandoverBytes: number;
  fenceAfterMs: number;
};

/** The default master of record (a Lease) of a master set: its name as a DNS label, and `-master`. */
export function recordNameFor(masterSet: string): string {
  const base = masterSet
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `${base || 'redis'}-master`;
}

const DNS_LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A StatefulSet pod's DNS name, as the cluster DNS serves it for a pod with hostname and subdomain. */
export const podDnsName = (pod: string, service: string, namespace: string, domain: string) =>
  `${pod}.${service}.${namespace}.svc.${domain}`;

/** A label no pod has: the pod selector of a watching Sentinel's own settings (it has no set of its own). */
const WATCH_ONLY_LABEL = 'redis-ha-launcher/no-set';
export const NO_SET_SELECTOR = `!${WATCH_ONLY_LABEL}`;

/** A bad setting: one line naming the variable, the value and what is expected. Exit code 2. */
export class ConfigError extends Error {}

type Raw = Partial<Record<SettingEnv, string>>;
type SecretEnv = Extract<SettingEnv, `${string}PASSWORD_FILE`>;

function int(raw: Raw, env: keyof Raw, min: number, max: number, what: string): number {
  const v = raw[env] ?? (SETTINGS as readonly Setting[]).find((s) => s.env === env)?.default ?? '';
  if (/^tcp:\/\//.test(v)) {
    // The kubelet injects <SERVICE>_PORT=tcp://10.x.y.z:port for every Service in the namespace (service links).
    throw new ConfigError(
      `${env}=${JSON.stringify(v)} looks like a Service link variable the kubelet injected for a Service named ` +
        `${env.replace(/_PORT$/, '').toLowerCase()}: set enableServiceLinks: false in the pod spec, or set ${env} ` +
        `explicitly`,
    );
  }
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
    throw new ConfigError(`${env}=${JSON.stringify(v)} is invalid: expected ${what}`);
  }
  return Number(v);
}

/** Sentinel passes the name to the client-reconfig-script as an argument: it must not look like an option. */
export const MASTER_SET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Builds the configuration from raw values (env merged with flags by the CLI). Throws ConfigError. */
export function parseConfig(
  raw: Raw,
  opts: {
    sentinelFlag?: boolean;
    clusterFlag?: boolean;
    launcherPath?: string;
    readFile?: (p: string) => string;
    hostname?: string;
    /** For a command that is no pod of the set (status): no pod name or IP needed, the namespace may come later. */
    anywhere?: boolean;
  } = {},
): Config {
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const podName = raw.POD_NAME || opts.hostname || '';
  if (!podName && !opts.anywhere) {
    throw new ConfigError("POD_NAME is not set (nor HOSTNAME): expected this pod's name from the downward API");
  }
  let namespace = raw.POD_NAMESPACE ?? '';
  if (!namespace) {
    try {
      namespace = read(SA_NAMESPACE_FILE).trim();
    } catch {
      /* handled below */
    }
  }
  if (!namespace && !opts.anywhere) {
    throw new ConfigError(
      `POD_NAMESPACE is not set and ${SA_NAMESPACE_FILE} is unreadable: expected this pod's namespace`,
    );
  }
  // status.podIPs (dual stack) comes as a comma-separated list, the primary family first: that one is used.
  const podIps = (raw.POD_IP ?? '').split(',').map((a) => a.trim());
  const podIp = podIps[0];
  if (!podIps.every((a) => isIP(a)) && !(opts.anywhere && !podIp)) {
    throw new ConfigError(
      `POD_IP=${JSON.stringify(raw.POD_IP ?? '')} is invalid: expected this pod's IP address (downward API ` +
        `status.podIP, or status.podIPs)`,
    );
  }
  const hostnamesEnv = (raw.REDIS_HOSTNAMES ?? 'false').trim().toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(hostnamesEnv)) {
    throw new ConfigError(`REDIS_HOSTNAMES=${JSON.stringify(raw.REDIS_HOSTNAMES)} is invalid: expected true or false`);
  }
  const domain = (raw.CLUSTER_DOMAIN ?? 'cluster.local').trim().replace(/\.$/, '');
  let ownName: string | undefined;
  if (['true', '1', 'yes'].includes(hostnamesEnv)) {
    const service = raw.REDIS_HEADLESS_SERVICE?.trim() ?? '';
    if (!DNS_LABEL_RE.test(service)) {
      throw new ConfigError(
        `REDIS_HEADLESS_SERVICE=${JSON.stringify(service)} is invalid: with REDIS_HOSTNAMES expected the headless ` +
          "Service of this pod's StatefulSet (its serviceName), e.g. redis-headless",
      );
    }
    if (!DNS_NAME_RE.test(domain)) {
      throw new ConfigError(`CLUSTER_DOMAIN=${JSON.stringify(raw.CLUSTER_DOMAIN)} is invalid: expected a DNS name`);
    }
    ownName = podDnsName(podName, service, namespace, domain);
  }
  const masterSet = raw.REDIS_MASTER_SET ?? 'mymaster';
  if (!MASTER_SET_RE.test(masterSet)) {
    throw new ConfigError(
      `REDIS_MASTER_SET=${JSON.stringify(masterSet)} is invalid: expected letters, digits, '.', '-' or '_', ` +
        'and to start with a letter or digit',
    );
  }
  const watchSelector = raw.SENTINEL_WATCH_SELECTOR?.trim() || undefined;
  if (watchSelector && !raw.SENTINEL_POD_SELECTOR?.trim()) {
    throw new ConfigError(
      'SENTINEL_WATCH_SELECTOR is set but SENTINEL_POD_SELECTOR is not: dedicated Sentinels must know their peers ' +
        'by the label selector of the Sentinel pods, e.g. app=sentinel',
    );
  }
  // A dedicated Sentinel watching StatefulSets takes each set's pod selector from the StatefulSet, not this one.
  const podSelector = watchSelector ? NO_SET_SELECTOR : (raw.REDIS_POD_SELECTOR ?? '');
  if (!podSelector.trim()) {
    throw new ConfigError(
      "REDIS_POD_SELECTOR is not set: expected the label selector of this set's Redis pods, e.g. app=redis",
    );
  }
  const sentinelSelector = raw.SENTINEL_POD_SELECTOR || podSelector;
  const listenAddress = raw.LISTEN_ADDRESS ? canonicalHost(raw.LISTEN_ADDRESS) : undefined;
  if (listenAddress && !isIP(listenAddress)) {
    throw new ConfigError(`LISTEN_ADDRESS=${JSON.stringify(listenAddress)} is invalid: expected an IP address`);
  }
  const sentinelEnv = raw.SENTINEL?.trim().toLowerCase();
  if (sentinelEnv && !['true', 'false', '1', '0', 'yes', 'no'].includes(sentinelEnv)) {
    throw new ConfigError(`SENTINEL=${JSON.stringify(raw.SENTINEL)} is invalid: expected true or false`);
  }
  const secret = (env: SecretEnv): string | undefined => {
    const file = raw[env];
    if (!file) return undefined;
    let value: string;
    try {
      value = read(file).replace(/\r?\n$/, '');
    } catch (e) {
      throw new ConfigError(
        `${env}=${JSON.stringify(file)} is unreadable: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    if (!value) throw new ConfigError(`${env}=${JSON.stringify(file)} is empty: expected the password`);
    if (/[\s"']/.test(value)) {
      throw new ConfigError(
        `${env}=${JSON.stringify(file)} holds whitespace or quotes: expected a password without them`,
      );
    }
    return value;
  };
  const password = secret('REDIS_PASSWORD_FILE');
  const acl = {
    launcher: secret('REDIS_ACL_LAUNCHER_PASSWORD_FILE'),
    replication: secret('REDIS_ACL_REPLICATION_PASSWORD_FILE'),
    sentinel: secret('REDIS_ACL_SENTINEL_PASSWORD_FILE'),
  };
  const aclWithout = Object.entries(acl).find(([, v]) => v && !password)?.[0];
  if (aclWithout) {
    throw new ConfigError(
      `REDIS_ACL_${aclWithout.toUpperCase()}_PASSWORD_FILE is set but REDIS_PASSWORD_FILE is not: without a ` +
        `password the default user can run every command, so a user with fewer protects nothing`,
    );
  }
  // Sentinel's own password; without a file of its own, the Redis password protects Sentinel too.
  const sentinelPassword = secret('SENTINEL_PASSWORD_FILE') ?? password;
  const tls = tlsFiles(raw, read);
  const recordDefault = recordNameFor(masterSet);
  const config: Config = {
    podName,
    namespace,
    podIp: ownName ?? canonicalHost(podIp),
    podIpAddress: canonicalHost(podIp),
    masterSet,
    podSelector,
    sentinelSelector,
    sentinelSidecar: sentinelSelector === podSelector,
    watchSelector,
    ...(ownName ? { hostnames: { domain } } : {}),
    redisPort: int(raw, 'REDIS_PORT', 1, 65535, 'a TCP port 1-65535'),
    sentinelPort: int(raw, 'SENTINEL_PORT', 1, 65535, 'a TCP port 1-65535'),
    quorum: int(raw, 'SENTINEL_QUORUM', 1, 1000, 'a whole number of Sentinels, at least 1'),
    downAfterMs: int(raw, 'SENTINEL_DOWN_AFTER_MS', 1, 86_400_000, 'milliseconds, at least 1'),
    failoverTimeoutMs: int(raw, 'SENTINEL_FAILOVER_TIMEOUT_MS', 1, 86_400_000, 'milliseconds, at least 1'),
    parallelSyncs: int(raw, 'SENTINEL_PARALLEL_SYNCS', 1, 1000, 'a whole number, at least 1'),
    dataDir: raw.REDIS_DATA_DIR || '/data',
    confDir: raw.REDIS_CONF_DIR || '/etc/redis-ha',
    extraConf: raw.REDIS_EXTRA_CONF || undefined,
    password,
    passwordFile: raw.REDIS_PASSWORD_FILE || undefined,
    passwordGraceMs: int(raw, 'REDIS_PASSWORD_GRACE_MS', 0, 86_400_000, 'milliseconds, 0 to 86400000'),
    sentinelOwnPassword: Boolean(raw.SENTINEL_PASSWORD_FILE),
    acl,
    tls,
    sentinelPassword,
    minReplicasToWrite: int(raw, 'REDIS_MIN_REPLICAS_TO_WRITE', 0, 1000, 'a whole number of replicas, or 0 for off'),
    minReplicasMaxLag: int(raw, 'REDIS_MIN_REPLICAS_MAX_LAG', 1, 3600, 'seconds, 1 to 3600'),
    replicaPriority: int(raw, 'REDIS_REPLICA_PRIORITY', 0, 1_000_000, 'a whole number, 0 for never promoted'),
    redisServerBin: raw.REDIS_SERVER_BIN || 'redis-server',
    redisSentinelBin: raw.REDIS_SENTINEL_BIN || 'redis-sentinel',
    listenAddress,
    sentinelMode: Boolean(opts.sentinelFlag) || ['true', '1', 'yes'].includes(sentinelEnv ?? ''),
    masterRecord: raw.MASTER_RECORD_NAME || recordDefault,
    waitTimeoutMs: int(raw, 'LAUNCHER_WAIT_TIMEOUT_MS', 1000, 86_400_000, 'milliseconds, at least 1000'),
    stopTimeoutMs: int(raw, 'REDIS_STOP_TIMEOUT_MS', 1000, 3_600_000, 'milliseconds, at least 1000'),
    promoteScript:
      raw.LAUNCHER_PROMOTE_SCRIPT || join(dirname(opts.launcherPath ?? process.argv[1] ?? '.'), 'launcher-promote'),
    probeTimeoutMs: int(raw, 'PROBE_TIMEOUT_MS', 100, 60_000, 'milliseconds, 100 to 60000'),
    httpPort: 0,
    reconcileMs: int(raw, 'LAUNCHER_RECONCILE_MS', 100, 3_600_000, 'milliseconds, at least 100'),
    handoverTimeoutMs: int(raw, 'HANDOVER_TIMEOUT_MS', 0, 3_600_000, 'milliseconds'),
    hygieneMs: int(raw, 'SENTINEL_HYGIENE_MS', 100, 86_400_000, 'milliseconds, at least 100'),
    loadingHandoverBytes: int(raw, 'LOADING_HANDOVER_BYTES', 0, Number.MAX_SAFE_INTEGER, 'bytes, or 0 for never'),
    fenceAfterMs: 0,
  };
  const clusterEnv = raw.CLUSTER_MODE?.trim().toLowerCase();
  if (clusterEnv && !['true', 'false', '1', '0', 'yes', 'no'].includes(clusterEnv)) {
    throw new ConfigError(`CLUSTER_MODE=${JSON.stringify(raw.CLUSTER_MODE)} is invalid: expected true or false`);
  }
  if (opts.clusterFlag || ['true', '1', 'yes'].includes(clusterEnv ?? '')) {
    const unsupported = [
      config.sentinelMode ? 'SENTINEL' : '',
      config.acl.sentinel ? 'REDIS_ACL_SENTINEL_PASSWORD_FILE' : '',
    ].filter(Boolean);
    if (unsupported.length) {
      throw new ConfigError(
        `CLUSTER_MODE is set with ${unsupported.join(', ')}: cluster mode runs no Sentinel (Redis fails masters ` +
          'over itself)',
      );
    }
    config.cluster = {
      masters: int(raw, 'CLUSTER_MASTERS', 1, 1000, 'a whole number of masters, at least 1'),
      replicasPerMaster: int(raw, 'CLUSTER_REPLICAS_PER_MASTER', 0, 100, 'a whole number of replicas, 0 or more'),
      nodeTimeoutMs: int(raw, 'CLUSTER_NODE_TIMEOUT_MS', 100, 3_600_000, 'milliseconds, at least 100'),
      migrationBarrier: int(raw, 'CLUSTER_MIGRATION_BARRIER', 0, 100, 'a whole number of replicas, 0 for off'),
    };
  }
  config.fenceAfterMs =
    raw.FENCE_AFTER_MS !== undefined
      ? int(raw, 'FENCE_AFTER_MS', 0, 86_400_000, 'milliseconds, or 0 for never')
      : Math.floor(config.downAfterMs / 2);
  config.httpPort =
    raw.LAUNCHER_HTTP_PORT === undefined
      ? config.sentinelMode
        ? 8081
        : 8080
      : int(raw, 'LAUNCHER_HTTP_PORT', 0, 65535, 'a TCP port, or 0 to disable');
  return config;
}

/** Raw values from the environment (flags override them in the CLI). */
export function rawFromEnv(env: NodeJS.ProcessEnv = process.env): Raw {
  const raw: Raw = {};
  for (const s of SETTINGS) if (env[s.env] !== undefined) raw[s.env] = env[s.env];
  return raw;
}

export type TlsFiles = {
  dir: string;
  cert: string;
  key: string;
  ca: string;
  authClients: 'yes' | 'optional' | 'no';
  /** What the launcher presents and trusts, read at start. */
  pem: { cert: string; key: string; ca: string };
};

/** REDIS_TLS_DIR: the cert-manager layout (tls.crt, tls.key, ca.crt), each file readable, or one line saying which. */
function tlsFiles(raw: Raw, read: (f: string) => string): TlsFiles | undefined {
  const authClients = (raw.REDIS_TLS_AUTH_CLIENTS ?? 'no').trim();
  if (!['yes', 'optional', 'no'].includes(authClients)) {
    throw new ConfigError(
      `REDIS_TLS_AUTH_CLIENTS=${JSON.stringify(raw.REDIS_TLS_AUTH_CLIENTS)} is invalid: expected yes, optional or no`,
    );
  }
  const dir = raw.REDIS_TLS_DIR;
  if (!dir) return undefined;
  const file = (name: string) => {
    const path = `${dir.replace(/\/+$/, '')}/${name}`;
    try {
      const text = read(path);
      if (!text.includes('-----BEGIN ')) throw Object.assign(new Error('no PEM block'), { code: 'not PEM' });
      return { path, text };
    } catch (e) {
      throw new ConfigError(
        `REDIS_TLS_DIR=${JSON.stringify(dir)}: ${name} is unreadable or not PEM ` +
          `(${(e as NodeJS.ErrnoException).code ?? 'error'}): expected tls.crt, tls.key and ca.crt`,
      );
    }
  };
  const [cert, key, ca] = [file('tls.crt'), file('tls.key'), file('ca.crt')];
  return {
    dir,
    cert: cert.path,
    key: key.path,
    ca: ca.path,
    authClients: authClients as TlsFiles['authClients'],
    pem: { cert: cert.text, key: key.text, ca: ca.text },
  };
}
