// Legacy (non-aggregated) discovery documents, enough for kubectl 1.32.
import { RESOURCES, groupVersion } from './resources.ts';

export const version = () => ({
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:00:00Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
});

export const apiVersions = (hostPort: string) => ({
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: hostPort }],
});

export function apiGroupList() {
  const groups = [...new Set(RESOURCES.filter((d) => d.group).map((d) => d.group))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((name) => ({
      name,
      versions: [{ groupVersion: `${name}/v1`, version: 'v1' }],
      preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' },
    })),
  };
}

export function resourceList(group: string) {
  const defs = RESOURCES.filter((d) => d.group === group);
  if (!defs.length) return undefined;
  const resources: unknown[] = [];
  for (const d of defs) {
    resources.push({
      name: d.resource,
      singularName: d.singular,
      namespaced: true,
      kind: d.kind,
      verbs: d.verbs,
      ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
      ...(d.categories.length ? { categories: d.categories } : {}),
    });
    if (d.hasStatus) {
      resources.push({
        name: `${d.resource}/status`,
        singularName: '',
        namespaced: true,
        kind: d.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
  }
  return {
    kind: 'APIResourceList',
    ...(group ? { apiVersion: 'v1' } : {}),
    groupVersion: groupVersion(defs[0]),
    resources,
  };
}
