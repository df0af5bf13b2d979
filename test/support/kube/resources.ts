// The resource types the stand-in serves, with what discovery, field selectors and validation need.

export type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    generateName?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string | null;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: unknown[];
    [k: string]: unknown;
  };
  spec?: any;
  status?: any;
  [k: string]: any;
};

export type ResourceDef = {
  group: string; // '' = core
  version: 'v1';
  resource: string; // plural
  singular: string;
  kind: string;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Storage bucket; the two Event APIs share one. */
  bucket: string;
  hasStatus: boolean;
  /** Spec-bearing kinds get generation bumps on spec changes. */
  generation: 'always' | 'never';
  /** Top-level fields a typed decode keeps; others are dropped with a Warning. */
  topLevel: string[];
  fieldKeys: readonly string[];
  fields: (o: Obj) => Record<string, string>;
};

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const meta = (o: Obj) => ({ 'metadata.name': o.metadata.name, 'metadata.namespace': o.metadata.namespace ?? '' });
const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));

export const RESOURCES: ResourceDef[] = [
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    shortNames: ['po'],
    categories: ['all'],
    verbs: ALL_VERBS,
    bucket: 'pods',
    hasStatus: true,
    generation: 'always',
    topLevel: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
    fieldKeys: [
      'metadata.name',
      'metadata.namespace',
      'spec.nodeName',
      'spec.host',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.podIPs',
      'status.nominatedNodeName',
    ],
    fields: (o) => ({
      ...meta(o),
      'spec.nodeName': s(o.spec?.nodeName),
      'spec.host': s(o.spec?.nodeName),
      'spec.restartPolicy': s(o.spec?.restartPolicy),
      'spec.schedulerName': s(o.spec?.schedulerName),
      'spec.serviceAccountName': s(o.spec?.serviceAccountName),
      'spec.hostNetwork': o.spec?.hostNetwork ? 'true' : 'false',
      'status.phase': s(o.status?.phase),
      'status.podIP': s(o.status?.podIPs?.[0]?.ip ?? o.status?.podIP),
      'status.podIPs': '\u0000never',
      'status.nominatedNodeName': s(o.status?.nominatedNodeName),
    }),
  },
  {
    group: '',
    version: 'v1',
    resource: 'services',
    singular: 'service',
    kind: 'Service',
    shortNames: ['svc'],
    categories: ['all'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    bucket: 'services',
    hasStatus: true,
    generation: 'never',
    topLevel: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
    fieldKeys: ['metadata.name', 'metadata.namespace', 'spec.clusterIP', 'spec.type'],
    fields: (o) => ({ ...meta(o), 'spec.clusterIP': s(o.spec?.clusterIP), 'spec.type': s(o.spec?.type) }),
  },
  {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    shortNames: ['cm'],
    categories: [],
    verbs: ALL_VERBS,
    bucket: 'configmaps',
    hasStatus: false,
    generation: 'never',
    topLevel: ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'],
    fieldKeys: ['metadata.name', 'metadata.namespace'],
    fields: meta,
  },
  {
    group: '',
    version: 'v1',
    resource: 'endpoints',
    singular: 'endpoints',
    kind: 'Endpoints',
    shortNames: ['ep'],
    categories: [],
    verbs: ALL_VERBS,
    bucket: 'endpoints',
    hasStatus: false,
    generation: 'never',
    topLevel: ['apiVersion', 'kind', 'metadata', 'subsets'],
    fieldKeys: ['metadata.name', 'metadata.namespace'],
    fields: meta,
  },
  {
    group: '',
    version: 'v1',
    resource: 'events',
    singular: 'event',
    kind: 'Event',
    shortNames: ['ev'],
    categories: [],
    verbs: ALL_VERBS,
    bucket: 'events',
    hasStatus: false,
    generation: 'never',
    topLevel: [
      'apiVersion',
      'kind',
      'metadata',
      'involvedObject',
      'reason',
      'message',
      'source',
      'firstTimestamp',
      'lastTimestamp',
      'count',
      'type',
      'eventTime',
      'series',
      'action',
      'related',
      'reportingComponent',
      'reportingInstance',
    ],
    fieldKeys: [
      'metadata.name',
      'metadata.namespace',
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
    fields: (o) => ({
      ...meta(o),
      ...Object.fromEntries(
        ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map((k) => [
          `involvedObject.${k}`,
          s(o.involvedObject?.[k]),
        ]),
      ),
      reason: s(o.reason),
      reportingComponent: s(o.reportingComponent),
      source: s(o.source?.component),
      type: s(o.type),
    }),
  },
  {
    group: 'events.k8s.io',
    version: 'v1',
    resource: 'events',
    singular: 'event',
    kind: 'Event',
    shortNames: ['ev'],
    categories: [],
    verbs: ALL_VERBS,
    bucket: 'events.k8s.io/events',
    hasStatus: false,
    generation: 'never',
    topLevel: [
      'apiVersion',
      'kind',
      'metadata',
      'eventTime',
      'series',
      'reportingController',
      'reportingInstance',
      'action',
      'reason',
      'regarding',
      'related',
      'note',
      'type',
      'deprecatedSource',
      'deprecatedFirstTimestamp',
      'deprecatedLastTimestamp',
      'deprecatedCount',
    ],
    fieldKeys: ['metadata.name', 'metadata.namespace'],
    fields: meta,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    resource: 'leases',
    singular: 'lease',
    kind: 'Lease',
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    bucket: 'leases',
    hasStatus: false,
    generation: 'never',
    topLevel: ['apiVersion', 'kind', 'metadata', 'spec'],
    fieldKeys: ['metadata.name', 'metadata.namespace'],
    fields: meta,
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'statefulsets',
    singular: 'statefulset',
    kind: 'StatefulSet',
    shortNames: ['sts'],
    categories: ['all'],
    verbs: ALL_VERBS,
    bucket: 'statefulsets',
    hasStatus: true,
    generation: 'always',
    topLevel: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
    fieldKeys: ['metadata.name', 'metadata.namespace'],
    fields: meta,
  },
];

export const METADATA_FIELDS = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
  'selfLink',
];

export const groupVersion = (d: ResourceDef) => (d.group ? `${d.group}/${d.version}` : d.version);

export function findResource(group: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((d) => d.group === group && d.resource === resource);
}
