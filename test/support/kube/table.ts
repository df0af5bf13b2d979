// Server-side printing: kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the columns
// the server chose. Pods and Events get kube-apiserver's own columns; everything else NAME and AGE (kube's default
// printer has Name and Created At).

type Column = {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
  cell: (o: any) => string | number;
};

/** kube's duration.HumanDuration, shortened: 45s, 3m12s, 5h, 2d. */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '<unknown>';
  const s = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

const podStatus = (p: any): string => {
  if (p.metadata.deletionTimestamp) return 'Terminating';
  for (const c of p.status?.containerStatuses ?? []) {
    const why = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (why) return why;
  }
  return p.status?.phase ?? 'Unknown';
};

const POD: Column[] = [
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Name of the pod',
    priority: 0,
    cell: (p) => p.metadata.name,
  },
  {
    name: 'Ready',
    type: 'string',
    description: 'The aggregate readiness state of this pod for accepting traffic.',
    priority: 0,
    cell: (p) => {
      const cs = p.status?.containerStatuses ?? [];
      return `${cs.filter((c: any) => c.ready).length}/${(p.spec?.containers ?? cs).length}`;
    },
  },
  {
    name: 'Status',
    type: 'string',
    description: 'The aggregate status of the containers in this pod.',
    priority: 0,
    cell: podStatus,
  },
  {
    name: 'Restarts',
    type: 'string',
    description: 'The number of times the containers in this pod have been restarted.',
    priority: 0,
    cell: (p) =>
      String((p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0)),
  },
  {
    name: 'Age',
    type: 'string',
    description: 'CreationTimestamp',
    priority: 0,
    cell: (p) => age(p.metadata.creationTimestamp),
  },
  {
    name: 'IP',
    type: 'string',
    description: 'IP address allocated to the pod.',
    priority: 1,
    cell: (p) => p.status?.podIP ?? '<none>',
  },
  {
    name: 'Node',
    type: 'string',
    description: 'Name of the Node',
    priority: 1,
    cell: (p) => p.spec?.nodeName ?? '<none>',
  },
  { name: 'Nominated Node', type: 'string', description: 'Nominated node', priority: 1, cell: () => '<none>' },
  { name: 'Readiness Gates', type: 'string', description: 'Readiness gates', priority: 1, cell: () => '<none>' },
];

const EVENT: Column[] = [
  {
    name: 'Last Seen',
    type: 'string',
    description: 'Time of the last occurrence',
    priority: 0,
    cell: (e) => age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp),
  },
  { name: 'Type', type: 'string', description: 'Type of this event', priority: 0, cell: (e) => e.type ?? '' },
  { name: 'Reason', type: 'string', description: 'Why the action was taken', priority: 0, cell: (e) => e.reason ?? '' },
  {
    name: 'Object',
    type: 'string',
    description: 'The object this event is about',
    priority: 0,
    cell: (e) => `${String(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`,
  },
  {
    name: 'Message',
    type: 'string',
    description: 'A human-readable description',
    priority: 0,
    cell: (e) => e.message ?? '',
  },
];

const DEFAULT: Column[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name', priority: 0, cell: (o) => o.metadata.name },
  {
    name: 'Age',
    type: 'string',
    description: 'CreationTimestamp',
    priority: 0,
    cell: (o) => age(o.metadata.creationTimestamp),
  },
];

/** The Table version the Accept header asks for (meta.k8s.io v1 or v1beta1), if it asks for one. */
export function wantsTable(accept: string | undefined): string | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = Object.fromEntries(
      part
        .split(';')
        .slice(1)
        .map((kv) => kv.trim().split('=') as [string, string]),
    );
    if (params.as === 'Table' && params.g === 'meta.k8s.io' && ['v1', 'v1beta1'].includes(params.v)) return params.v;
  }
  return undefined;
}

/** A list or one object as a Table, with the rows' objects as kubectl asked (includeObject, default Metadata). */
export function toTable(body: any, version: string, includeObject: string | null): object {
  const kind = String(body.kind ?? '').replace(/List$/, '');
  const core = String(body.apiVersion ?? '') === 'v1';
  const cols = core && kind === 'Pod' ? POD : core && kind === 'Event' ? EVENT : DEFAULT;
  const items: any[] = body.kind?.endsWith('List') ? body.items : [body];
  const object = (o: any) =>
    includeObject === 'None'
      ? undefined
      : includeObject === 'Object'
        ? o
        : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: { resourceVersion: body.metadata?.resourceVersion, continue: body.metadata?.continue },
    columnDefinitions: cols.map(({ cell: _cell, ...c }) => ({ format: '', ...c })),
    rows: items.map((o) => ({ cells: cols.map((c) => c.cell(o)), object: object(o) })),
  };
}
