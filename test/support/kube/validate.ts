// Object validation and typed-decode behaviour applied to every create/update/patch result.
import { validateLabels } from './labels.ts';
import { METADATA_FIELDS, type Obj, type ResourceDef } from './resources.ts';
import { badRequest, invalid, type Cause } from './status.ts';

/** Drops fields a typed decode would not keep; returns Warning texts (kube's fieldValidation=Warn). */
export function dropUnknownFields(def: ResourceDef, o: Record<string, any>): string[] {
  const warnings: string[] = [];
  for (const k of Object.keys(o)) {
    if (!def.topLevel.includes(k)) {
      warnings.push(`unknown field "${k}"`);
      delete o[k];
    }
  }
  if (o.metadata && typeof o.metadata === 'object') {
    for (const k of Object.keys(o.metadata)) {
      if (!METADATA_FIELDS.includes(k)) {
        warnings.push(`unknown field "metadata.${k}"`);
        delete o.metadata[k];
      }
    }
  }
  return warnings;
}

/** Decoder type errors (a label value that is not a string) are 422 with field "patch" or the body. */
export function checkTypes(def: ResourceDef, o: Obj, field: string) {
  for (const m of ['labels', 'annotations'] as const) {
    const map = o.metadata?.[m];
    if (map === undefined || map === null) continue;
    if (typeof map !== 'object' || Array.isArray(map)) {
      throw invalid(def.kind, o.metadata.name, [
        { reason: 'FieldValueInvalid', field, message: `Invalid value: metadata.${m}: expected map` },
      ]);
    }
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') {
        throw invalid(def.kind, o.metadata.name, [
          {
            reason: 'FieldValueInvalid',
            field,
            message:
              `Invalid value: "metadata.${m}.${k}": json: cannot unmarshal ${typeof v} into Go struct field ` +
              `ObjectMeta.metadata.${m} of type string`,
          },
        ]);
      }
    }
  }
}

export function validateObject(def: ResourceDef, o: Obj) {
  const causes: Cause[] = validateLabels(o.metadata.labels).map((e) => ({ reason: 'FieldValueInvalid', ...e }));
  if (causes.length) throw invalid(def.kind, o.metadata.name, causes, def.group === 'apps' ? '' : '');
  if (def.bucket === 'events') validateCoreEvent(o);
  if (def.bucket === 'events.k8s.io/events') validateEventsV1(o);
}

const required = (field: string): Cause => ({ reason: 'FieldValueRequired', field, message: 'Required value' });

function validateCoreEvent(o: Obj) {
  const causes: Cause[] = [];
  const ns = o.metadata.namespace ?? '';
  if (!o.eventTime) {
    const ion = o.involvedObject?.namespace ?? '';
    if (ion !== ns && !(ion === '' && ns === 'default')) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'involvedObject.namespace',
        message: `Invalid value: ${JSON.stringify(ion)}: does not match event.namespace`,
      });
    }
  } else {
    for (const f of ['reportingComponent', 'reportingInstance', 'action', 'reason']) {
      if (!o[f]) causes.push(required(f === 'reportingComponent' ? 'reportingController' : f));
      else if (String(o[f]).length > 128) {
        causes.push({ reason: 'FieldValueTooLong', field: f, message: 'Too long: may not be more than 128 bytes' });
      }
    }
  }
  if (o.message && String(o.message).length > 1024) {
    causes.push({
      reason: 'FieldValueTooLong',
      field: 'message',
      message: 'Too long: may not be more than 1024 bytes',
    });
  }
  if (causes.length) throw invalid('Event', o.metadata.name, causes);
}

function validateEventsV1(o: Obj) {
  const causes: Cause[] = [];
  if (!o.eventTime) causes.push(required('eventTime'));
  for (const f of ['reportingController', 'reportingInstance', 'action', 'reason']) {
    if (!o[f]) causes.push(required(f));
    else if (String(o[f]).length > 128) {
      causes.push({ reason: 'FieldValueTooLong', field: f, message: 'Too long: may not be more than 128 bytes' });
    }
  }
  if (o.type !== 'Normal' && o.type !== 'Warning') {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'type',
      message: `Unsupported value: ${JSON.stringify(o.type ?? '')}: supported values: "Normal", "Warning"`,
    });
  }
  for (const f of ['deprecatedSource', 'deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount']) {
    const v = o[f];
    if (v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v).length === 0) && v !== 0) {
      causes.push({ reason: 'FieldValueInvalid', field: f, message: 'Invalid value: needs to be unset' });
    }
  }
  if (o.note && String(o.note).length > 1024) {
    causes.push({ reason: 'FieldValueTooLong', field: 'note', message: 'Too long: may not be more than 1024 bytes' });
  }
  if (causes.length) throw invalid('Event', o.metadata.name, causes, 'events.k8s.io');
}

/** The name/namespace in a body must match the URL. */
export function checkIdentity(o: Obj, urlName: string | undefined, urlNs: string) {
  if (urlName !== undefined && o.metadata?.name !== urlName) {
    throw badRequest(`the name of the object (${o.metadata?.name}) does not match the name on the URL (${urlName})`);
  }
  if ((o.metadata?.namespace ?? urlNs) !== urlNs) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}
