// Names the settings derive: the master of record of a set, a pod's DNS name, the selector of no set.

/** The default master of record (a Lease) of a master set: its name as a DNS label, and `-master`. */
export function recordNameFor(masterSet: string): string {
  const base = masterSet
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `${base || 'redis'}-master`;
}

/** A StatefulSet pod's DNS name, as the cluster DNS serves it for a pod with hostname and subdomain. */
export const podDnsName = (pod: string, service: string, namespace: string, domain: string) =>
  `${pod}.${service}.${namespace}.svc.${domain}`;

/** A label no pod has: the pod selector of a watching Sentinel's own settings (it has no set of its own). */
const WATCH_ONLY_LABEL = 'redis-ha-launcher/no-set';
export const NO_SET_SELECTOR = `!${WATCH_ONLY_LABEL}`;

/** Sentinel passes the name to the client-reconfig-script as an argument: it must not look like an option. */
export const MASTER_SET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
