// metav1.Status error envelopes, as apimachinery pkg/api/errors builds them.

export type Status = {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: Record<string, unknown>;
  code: number;
};

export class ApiError extends Error {
  readonly status: Status;
  constructor(code: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
  }
}

/** `pods`, `statefulsets.apps`: how kube-apiserver names a resource in messages. */
export const qualified = (resource: string, group: string) => (group ? `${resource}.${group}` : resource);
const detailsOf = (name: string, resource: string, group: string) => ({
  name,
  ...(group ? { group } : {}),
  kind: resource,
});

export const notFound = (resource: string, group: string, name: string) =>
  new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, detailsOf(name, resource, group));

export const namespaceNotFound = (ns: string) =>
  new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });

export const unknownRoute = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export const alreadyExists = (resource: string, group: string, name: string) =>
  new ApiError(
    409,
    'AlreadyExists',
    `${qualified(resource, group)} "${name}" already exists`,
    detailsOf(name, resource, group),
  );

export const conflict = (resource: string, group: string, name: string) =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": the object has been modified; please ` +
      `apply your changes to the latest version and try again`,
    detailsOf(name, resource, group),
  );

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

export const unsupportedMediaType = () => new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});

export const methodNotAllowed = () =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');

export type Cause = { reason: string; message: string; field: string };

/** 422 Invalid for an object: `Pod "x" is invalid: <field>: <detail>`; details.kind is the Kind. */
export function invalid(kind: string, name: string, causes: Cause[], group = ''): ApiError {
  const parts = causes.map((c) => `${c.field}: ${c.message}`);
  const text = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${text}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes,
  });
}

export const jsonPatchFailed = () =>
  new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});

export function forbidden(
  user: string,
  verb: string,
  resource: string,
  group: string,
  ns: string,
  name?: string,
): ApiError {
  const what = name
    ? `${qualified(resource.split('/')[0], group)} "${name}"`
    : qualified(resource.split('/')[0], group);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const msg =
    `${what} is forbidden: User "${esc(user)}" cannot ${verb} resource "${resource}" in API group ` +
    `"${group}" in the namespace "${ns}"`;
  return new ApiError(403, 'Forbidden', msg, {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    kind: resource.split('/')[0],
  });
}

export const tooLargeRV = (rv: string, current: number) =>
  new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${rv}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
