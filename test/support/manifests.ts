// The manifests as a cluster would get them: kustomize renders (the base, each component, all of them), each
// object checked against the Kubernetes schemas (kubernetes-models) and for fields the API does not know
// (client-node's type maps), and pod templates against the Pod Security "restricted" profile.
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { Grant } from './kube/server.ts';

export const MANIFESTS = join(resolve(import.meta.dirname, '../..'), 'manifests');
export const COMPONENTS = ['password', 'acl-users', 'tls', 'network-policy', 'monitoring', 'hard-spread'];
/** What a user of overlays/cluster lists: the cluster variants of the components that touch the Sentinel container. */
export const CLUSTER_COMPONENTS = [
  'cluster/password',
  'cluster/acl-users',
  'cluster/tls',
  'network-policy',
  'monitoring',
  'hard-spread',
];

export type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };

/** `kubectl kustomize` of a directory, its output as raw YAML objects. */
async function kustomize(dir: string): Promise<Obj[]> {
  const r = await execa('kubectl', ['kustomize', dir], { reject: false });
  if (r.exitCode !== 0) throw new Error(`kustomize failed: ${r.stderr}`);
  // Raw YAML (client-node's loadAllYaml would rename fields to its TypeScript names, e.g. from -> _from).
  return parseAllDocuments(String(r.stdout)).map((d) => d.toJS() as Obj);
}

/** `kubectl kustomize` of an overlay of manifests/ (e.g. overlays/dedicated-sentinels). */
export async function renderOverlay(path: string): Promise<Obj[]> {
  return kustomize(join(MANIFESTS, path));
}

const inTemporaryDir = async <T>(body: (dir: string) => Promise<T>): Promise<T> => {
  const dir = await mkdtemp(join(tmpdir(), 'rhl-kustomize-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/**
 * `kubectl kustomize` of manifests/ (or of `on`, a directory under it such as overlays/cluster) with these
 * components (paths under manifests/components), through an overlay in a temporary directory: what a user writes.
 */
export async function render(components: string[] = [], on = ''): Promise<Obj[]> {
  return inTemporaryDir(async (dir) => {
    const rel = (p: string) => JSON.stringify(relative(dir, p));
    await writeFile(
      join(dir, 'kustomization.yaml'),
      `resources: [${rel(join(MANIFESTS, on))}]\n` +
        `components: [${components.map((c) => rel(join(MANIFESTS, 'components', c)))}]\n`,
    );
    return kustomize(dir);
  });
}

/**
 * `kubectl kustomize` of a copy of an overlay of manifests/ with these components listed in its own
 * kustomization.yaml: kustomize then applies them before the overlay's own patches (the other way a user composes).
 */
export async function renderCopy(overlay: string, components: string[]): Promise<Obj[]> {
  const src = join(MANIFESTS, overlay);
  return inTemporaryDir(async (dir) => {
    const k = parse(await readFile(join(src, 'kustomization.yaml'), 'utf8')) as Record<string, any>;
    const resources: string[] = [];
    for (const r of (k.resources ?? []) as string[]) {
      const from = resolve(src, r);
      if ((await stat(from)).isDirectory()) resources.push(relative(dir, from));
      else {
        await copyFile(from, join(dir, basename(r)));
        resources.push(basename(r));
      }
    }
    k.resources = resources;
    k.components = [
      ...((k.components ?? []) as string[]).map((c) => relative(dir, resolve(src, c))),
      ...components.map((c) => relative(dir, join(MANIFESTS, 'components', c))),
    ];
    await writeFile(join(dir, 'kustomization.yaml'), stringify(k));
    return kustomize(dir);
  });
}

/** kubernetes-models' class for an object, by apiVersion and kind. */
async function model(o: Obj): Promise<{ validate(): void } | undefined> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const path =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`
      : group === 'cert-manager.io'
        ? `@kubernetes-models/cert-manager/${group}/${version}/${o.kind}`
        : `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
  const mod = (await import(path)) as Record<string, new (d: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  return Model ? new Model(o) : undefined;
}

type Attr = { baseName: string; type: string };
const typeMap = (name: string): Attr[] | undefined =>
  ((k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attr[] }>)[name]?.getAttributeTypeMap?.() ??
    undefined) as Attr[] | undefined;

/** Fields the API would reject or drop as unknown (kubectl --validate=strict): paths like spec.template.spec.x. */
export function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return (value as unknown[]).flatMap((v, i) => unknownFields(v, array[1], `${path}[${i}]`));
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1], `${path}.${k}`));
  const attrs = typeMap(type);
  if (!attrs || typeof value !== 'object') return [];
  return Object.entries(value as object).flatMap(([k, v]) => {
    const a = attrs.find((x) => x.baseName === k);
    return a ? unknownFields(v, a.type, `${path}.${k}`) : [`${path}.${k}`];
  });
}

/** Schema problems and unknown fields of one object, as sentences. */
export async function problems(o: Obj): Promise<string[]> {
  const out: string[] = [];
  const m = await model(o);
  if (!m) return [`${o.kind}/${o.metadata.name}: no schema for ${o.apiVersion} ${o.kind}`];
  try {
    m.validate();
  } catch (e) {
    out.push(`${o.kind}/${o.metadata.name}: ${(e as Error).message}`);
  }
  const [, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const modelName = `${version[0].toUpperCase()}${version.slice(1)}${o.kind}`;
  if (typeMap(modelName)) {
    for (const f of unknownFields(o, modelName, o.kind)) out.push(`${o.kind}/${o.metadata.name}: unknown field ${f}`);
  }
  return out;
}

const ALLOWED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim'];
const ALLOWED_VOLUMES_ALSO = ['projected', 'secret'];

/** What the Pod Security Standard "restricted" (v1.30) rejects in a pod spec, as sentences. */
export function restrictedViolations(spec: any): string[] {
  const out: string[] = [];
  const psc = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push('host namespaces are shared');
  for (const v of spec.volumes ?? []) {
    const kind = Object.keys(v).find((k) => k !== 'name') ?? '';
    if (![...ALLOWED_VOLUMES, ...ALLOWED_VOLUMES_ALSO].includes(kind)) out.push(`volume ${v.name} is ${kind}`);
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}`;
    if (sc.privileged) out.push(`${at} is privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at} does not set allowPrivilegeEscalation=false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${at} does not drop ALL capabilities`);
    const added = (sc.capabilities?.add ?? []).filter((x: string) => x !== 'NET_BIND_SERVICE');
    if (added.length) out.push(`${at} adds capabilities ${added.join(', ')}`);
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) out.push(`${at} does not set runAsNonRoot=true`);
    if ((sc.runAsUser ?? psc.runAsUser) === 0) out.push(`${at} runs as UID 0`);
    const seccomp = (sc.seccompProfile ?? psc.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      out.push(`${at} has no RuntimeDefault seccomp profile`);
    }
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${at} uses hostPort ${p.hostPort}`);
  }
  return out;
}

/** The launcher's Role as the stand-in's grants: what manifests/base/rbac.yaml allows, nothing more. */
export async function launcherGrants(overlay?: string): Promise<Grant[]> {
  const role = (await (overlay ? renderOverlay(overlay) : render())).find((d) => d.kind === 'Role');
  if (!role) throw new Error('the manifests have no Role');
  return (role.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]).map(
    (r) => ({ verbs: r.verbs, resources: r.resources, groups: r.apiGroups, resourceNames: r.resourceNames }),
  );
}
