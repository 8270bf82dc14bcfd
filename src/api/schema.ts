/**
 * Building blocks shared by the kind schemas. Conventions the normaliser
 * relies on (see shape.ts):
 *  - every fixed-field object is closed (additionalProperties: false), so an
 *    unknown field is always an error with its path;
 *  - a `default` on a property is applied when the property is absent, before
 *    validation, so properties with defaults are required in the static type;
 *  - `x-normalize` names a pre-validation hook (units, aliases) by string,
 *    keeping schemas plain JSON that OpenAPI can publish as is;
 *  - `x-error` says in words what a `pattern` means, for error messages.
 */
import Type, { type TProperties, type TSchema } from 'typebox';

export type Hook = 'resources' | 'camelKeys' | 'manager' | 'resourceVersion' | 'timestamp';

export function Obj<P extends TProperties>(props: P, options: Record<string, unknown> = {}) {
  return Type.Object(props, { additionalProperties: false, ...options });
}

export function StrMap(options: Record<string, unknown> = {}) {
  return Type.Record(Type.String(), Type.String(), options);
}

export function MapOf<T extends TSchema>(value: T, options: Record<string, unknown> = {}) {
  return Type.Record(Type.String(), value, options);
}

export function Enum<const V extends string[]>(values: V, options: Record<string, unknown> = {}) {
  return Type.Enum(values, options);
}

export function NonEmpty(options: Record<string, unknown> = {}) {
  return Type.String({ minLength: 1, ...options });
}

export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS_LABEL_MEANING = 'must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit (e.g. "my-name")';

export function DnsLabel(options: Record<string, unknown> = {}) {
  return Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, 'x-error': DNS_LABEL_MEANING, ...options });
}

export function Timestamp(options: Record<string, unknown> = {}) {
  return Type.String({
    pattern: '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?$',
    'x-error': 'must be an ISO 8601 timestamp like 2026-11-22T10:00:00Z',
    'x-normalize': 'timestamp',
    ...options,
  });
}

export function Port(options: Record<string, unknown> = {}) {
  return Type.Integer({ minimum: 1, maximum: 65535, ...options });
}

/** The condition record shared by every status (Kubernetes' shape). */
export const Condition = Obj({
  type: NonEmpty(),
  status: Type.String({ default: 'True', description: 'True, False or Unknown' }),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  lastTransitionTime: Type.Optional(Timestamp()),
});
export type Condition = Type.Static<typeof Condition>;

export function Conditions() {
  return Type.Array(Condition, { default: [] });
}

const metaName = { name: Type.String({ description: 'DNS-1123 label, at most 63 characters' }) };
const metaCommon = {
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String({ 'x-normalize': 'resourceVersion' })),
  generation: Type.Optional(Type.Integer({ minimum: 0 })),
  creationTimestamp: Type.Optional(Timestamp()),
  labels: StrMap({ default: {} }),
  annotations: StrMap({ default: {} }),
};

export const GlobalMeta = Obj({ ...metaName, ...metaCommon });
export const NamespacedMeta = Obj({ ...metaName, namespace: Type.String({ default: 'default' }), ...metaCommon });

/** Resource amounts in canonical units (cpus, memory MiB, disk MiB, gpus, GPU types). */
export function Resources(options: Record<string, unknown> = {}) {
  return Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
    'x-normalize': 'resources',
    description: 'cpus, memory (MiB or 2Gi), disk (MiB or 2Gi), gpus, or a GPU type such as A100',
    ...options,
  });
}

/** {node: {resource: amount}} as reported by heartbeats. */
export function NodeResources() {
  return MapOf(MapOf(Type.Number({ minimum: 0 })), { default: {} });
}
