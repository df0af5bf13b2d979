// The manifests as a cluster would get them: kustomize renders (the base, each component, all of them), each
// object checked against the Kubernetes schemas (kubernetes-models) and for fields the API does not know
// (client-node's type maps), and pod templates against the Pod Security "restricted" profile.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import type { Grant } from './kube/server.ts';

export const MANIFESTS = join(resolve(import.meta.dirname, '../..'), 'manifests');
export const COMPONENTS = ['password', 'acl-users', 'tls', 'network-policy', 'monitoring', 'hard-spread'];

export type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };

/** `kubectl kustomize` of an overlay of manifests/ (e.g. overlays/dedicated-sentinels). */
export async function renderOverlay(path: string): Promise<Obj[]> {
  const r = await execa('kubectl', ['kustomize', join(MANIFESTS, path)], { reject: false });
  if (r.exitCode !== 0) throw new Error(`kustomize failed: ${r.stderr}`);
  return parseAllDocuments(String(r.stdout)).map((d) => d.toJS() as Obj);
}

/** `kubectl kustomize` of the base with these components, through an overlay in a temporary directory. */
export async function render(components: string[] = []): Promise<Obj[]> {
  const dir = await mkdtemp(join(tmpdir(), 'rhl-kustomize-'));
  try {
    const rel = (p: string) => JSON.stringify(relative(dir, p));
    await writeFile(
      join(dir, 'kustomization.yaml'),
      `resources: [${rel(MANIFESTS)}]\ncomponents: [${components.map((c) => rel(join(MANIFESTS, 'components', c)))}]\n`,
    );
    const r = await execa('kubectl', ['kustomize', dir], { reject: false });
    if (r.exitCode !== 0) throw new Error(`kustomize failed: ${r.stderr}`);
    // Raw YAML (client-node's loadAllYaml would rename fields to its TypeScript names, e.g. from -> _from).
    return parseAllDocuments(String(r.stdout)).map((d) => d.toJS() as Obj);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
