// Builds the configuration from raw values (env merged with flags): kinds, ranges and cross-field checks, and
// one line naming the variable when a value is bad (ConfigError, exit 2).
import { tlsFiles } from './tls-files.ts';
import { accessSync, constants, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { canonicalHost } from '../model.ts';
import { SETTINGS, type Setting, type SettingEnv } from './settings.ts';
import { engineBins } from '../redis/engine.ts';
import { ConfigError, type Config } from './types.ts';
import { MASTER_SET_RE, NO_SET_SELECTOR, podDnsName, recordNameFor } from './names.ts';
import { SA_NAMESPACE_FILE } from './settings.ts';

const DNS_LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export type Raw = Partial<Record<SettingEnv, string>>;
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

/** Builds the configuration from raw values (env merged with flags by the CLI). Throws ConfigError. */
/** An executable file of that name in a directory of PATH. */
function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d || '.', name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function parseConfig(
  raw: Raw,
  opts: {
    sentinelFlag?: boolean;
    clusterFlag?: boolean;
    launcherPath?: string;
    readFile?: (p: string) => string;
    /** Whether a program of that name is on PATH (default: looked up in process.env.PATH). */
    onPath?: (name: string) => boolean;
    hostname?: string;
    /** For a command that is no pod of the set (status): no pod name or IP needed, the namespace may come later. */
    anywhere?: boolean;
  } = {},
): Config {
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const bins = engineBins({
    server: raw.REDIS_SERVER_BIN,
    sentinel: raw.REDIS_SENTINEL_BIN,
    onPath: opts.onPath ?? onPath,
  });
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
    podHost: ownName ?? canonicalHost(podIp),
    podIp: canonicalHost(podIp),
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
    redisServerBin: bins.server,
    redisSentinelBin: bins.sentinel,
    cliBin: bins.cli,
    checkAofBin: bins.checkAof,
    engineWhy: bins.why,
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
    sentinelInfoPeriodMs: int(raw, 'SENTINEL_INFO_PERIOD_MS', 1000, 10_000, 'milliseconds, 1000 to 10000'),
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
    const endpoint = raw.CLUSTER_PREFERRED_ENDPOINT?.trim().toLowerCase() || 'ip';
    if (endpoint !== 'ip' && endpoint !== 'hostname') {
      const given = JSON.stringify(raw.CLUSTER_PREFERRED_ENDPOINT);
      throw new ConfigError(`CLUSTER_PREFERRED_ENDPOINT=${given} is invalid: expected ip or hostname`);
    }
    if (endpoint === 'hostname' && !config.hostnames) {
      throw new ConfigError('CLUSTER_PREFERRED_ENDPOINT=hostname needs REDIS_HOSTNAMES=true (names to hand out)');
    }
    const coverage = raw.CLUSTER_REQUIRE_FULL_COVERAGE?.trim().toLowerCase() || 'true';
    if (!['true', 'false', '1', '0', 'yes', 'no'].includes(coverage)) {
      const given = JSON.stringify(raw.CLUSTER_REQUIRE_FULL_COVERAGE);
      throw new ConfigError(`CLUSTER_REQUIRE_FULL_COVERAGE=${given} is invalid: expected true or false`);
    }
    config.cluster = {
      masters: int(raw, 'CLUSTER_MASTERS', 1, 1000, 'a whole number of masters, at least 1'),
      replicasPerMaster: int(raw, 'CLUSTER_REPLICAS_PER_MASTER', 0, 100, 'a whole number of replicas, 0 or more'),
      nodeTimeoutMs: int(raw, 'CLUSTER_NODE_TIMEOUT_MS', 100, 3_600_000, 'milliseconds, at least 100'),
      migrationBarrier: int(raw, 'CLUSTER_MIGRATION_BARRIER', 0, 100, 'a whole number of replicas, 0 for off'),
      preferredEndpoint: endpoint,
      requireFullCoverage: ['true', '1', 'yes'].includes(coverage),
    };
    if (config.minReplicasToWrite > config.cluster.replicasPerMaster) {
      throw new ConfigError(
        `REDIS_MIN_REPLICAS_TO_WRITE=${config.minReplicasToWrite} is more than CLUSTER_REPLICAS_PER_MASTER=` +
          `${config.cluster.replicasPerMaster}: no master would ever take a write`,
      );
    }
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
