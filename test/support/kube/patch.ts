// The three PATCH flavours kube-apiserver applies to a stored object's JSON form.
import fastJsonPatch from 'fast-json-patch';
import { badRequest, jsonPatchFailed, unsupportedMediaType, type ApiError } from './status.ts';

export type PatchType = 'json' | 'merge' | 'strategic';

/** Maps a Content-Type header to a patch type; 415 for anything else (apply is not modelled). */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const mt = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mt === 'application/json-patch+json') return 'json';
  if (mt === 'application/merge-patch+json') return 'merge';
  if (mt === 'application/strategic-merge-patch+json') return 'strategic';
  throw unsupportedMediaType();
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// Lists that strategic merge patch merges by key, by JSON path (arrays marked with []).
const MERGE_KEYS: Record<string, string> = {
  'spec.ports': 'port',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.containers[].env': 'name',
  'spec.containers[].ports': 'containerPort',
  'spec.volumes': 'name',
  'status.conditions': 'type',
  'status.containerStatuses': 'name',
  'spec.template.spec.containers': 'name',
  'metadata.ownerReferences': 'uid',
};

/** Strategic merge patch: maps merge as in merge patch; known lists merge by their key; `$patch: replace|delete`. */
export function strategicMergePatch(target: unknown, patch: unknown, path = ''): unknown {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch !== undefined) throw badRequest(`invalid value for $patch: ${JSON.stringify(patch.$patch)}`);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) throw badRequest(`unknown patch directive ${k}`);
    const p = path ? `${path}.${k}` : k;
    if (v === null) {
      delete out[k];
      continue;
    }
    const key = MERGE_KEYS[p];
    if (Array.isArray(v) && key && Array.isArray(out[k])) {
      if (v.some((e) => Array.isArray(e))) throw jsonPatchFailed();
      const merged = [...(out[k] as unknown[])];
      for (const item of v) {
        if (!isObject(item)) {
          merged.push(item);
          continue;
        }
        const idx = merged.findIndex((e) => isObject(e) && e[key] === item[key]);
        if (item.$patch === 'delete') {
          if (idx >= 0) merged.splice(idx, 1);
          continue;
        }
        if (idx >= 0) merged[idx] = strategicMergePatch(merged[idx], item, `${p}[]`);
        else merged.push(strategicMergePatch(undefined, item, `${p}[]`));
      }
      out[k] = merged;
    } else {
      const r = strategicMergePatch(out[k], v, p);
      if (r === undefined) delete out[k];
      else out[k] = r;
    }
  }
  return out;
}

/** RFC 6902, atomic; any failing op is a 422 like kube-apiserver. Body must be an array (else 400). */
export function jsonPatch(target: unknown, body: unknown): unknown {
  if (!Array.isArray(body)) {
    throw badRequest(
      `error decoding patch: json: cannot unmarshal ` +
        `${body === null ? 'null' : typeof body === 'object' ? 'object' : typeof body} into Go value of type ` +
        `[]handlers.jsonPatchOp`,
    );
  }
  if (body.length > 10000) throw badRequest('The allowed number of operations in a JSON patch is 10000');
  const doc = structuredClone(target);
  try {
    const err = fastJsonPatch.validate(body as fastJsonPatch.Operation[], doc);
    if (err) throw err;
    return fastJsonPatch.applyPatch(doc, body as fastJsonPatch.Operation[], true, true).newDocument;
  } catch (e) {
    if ((e as ApiError).status) throw e;
    throw jsonPatchFailed();
  }
}

export function applyPatch(type: PatchType, target: unknown, body: unknown): unknown {
  if (type === 'json') return jsonPatch(target, body);
  if (!isObject(body)) {
    throw badRequest('error decoding patch: invalid JSON merge patch: the patch is not a JSON object');
  }
  return type === 'merge' ? mergePatch(target, body) : strategicMergePatch(target, body);
}
