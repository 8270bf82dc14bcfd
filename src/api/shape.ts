/**
 * The pre-validation pass, driven by a "shape" computed once per schema:
 * renames snake_case keys of declared object properties to camelCase,
 * reports unknown fields with their path, fills defaults and runs the
 * `x-normalize` hooks (units, aliases). Maps (labels, envs, replicaStatus...)
 * keep their keys verbatim. It always builds a new object, so the caller's
 * input is never mutated and the output never aliases it.
 */
import type { Cause } from './errors.js';
import { ApiError } from './errors.js';
import { toCamel, toSnake } from './case.js';
import { MANAGER_ALIASES } from './kinds/cluster.js';
import type { Hook } from './schema.js';
import { normalizeResources } from './units.js';

interface Prop {
  name: string;
  /** The other accepted spelling (snake_case), or the same as name. */
  alt: string;
  shape: Shape;
  hasDefault: boolean;
  default?: unknown;
}

export interface Shape {
  k: 'leaf' | 'object' | 'map' | 'array';
  hook?: Hook;
  /** object: every accepted spelling -> property. */
  props?: Map<string, Prop>;
  /** object: every property once, in schema order. */
  order?: Prop[];
  /** map values / array items. */
  inner?: Shape;
  /** True when nothing below needs walking: values are copied as they are. */
  plain: boolean;
}

type JsonSchema = Record<string, any>;

export function buildShape(schema: JsonSchema): Shape {
  const hook = schema['x-normalize'] as Hook | undefined;
  if (schema.type === 'object' && schema.properties) {
    const props = new Map<string, Prop>();
    const order: Prop[] = [];
    for (const [name, sub] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
      const prop: Prop = { name, alt: toSnake(name), shape: buildShape(sub), hasDefault: 'default' in sub, default: sub.default };
      props.set(name, prop);
      props.set(prop.alt, prop);
      order.push(prop);
    }
    return { k: 'object', hook, props, order, plain: false };
  }
  if (schema.type === 'object' && schema.patternProperties) {
    const inner = buildShape(Object.values(schema.patternProperties as Record<string, JsonSchema>)[0] ?? {});
    return { k: 'map', hook, inner, plain: !hook && inner.plain };
  }
  if (schema.type === 'array' && schema.items) {
    const inner = buildShape(schema.items as JsonSchema);
    return { k: 'array', hook, inner, plain: !hook && inner.plain };
  }
  return { k: 'leaf', hook, plain: !hook };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * A deep copy of a JSON value (bodies come from JSON.parse, YAML or stored
 * JSON). Hand-written because structuredClone goes through V8's serialiser and
 * was a measurable share of every create; anything that is not plain JSON data
 * still goes to structuredClone.
 */
export function copy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i]);
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = copy((value as Record<string, unknown>)[key]);
    // Plain assignment to "__proto__" would set the prototype; keep it an own property as structuredClone did.
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}

function runHook(hook: Hook, value: unknown, path: string, causes: Cause[]): unknown {
  switch (hook) {
    case 'resources':
      try {
        return normalizeResources(value, path);
      } catch (err) {
        if (err instanceof ApiError && err.details?.causes) {
          causes.push(...err.details.causes);
          // Already reported: hand validation something valid so it does not report it again.
          return {};
        }
        throw err;
      }
    case 'manager':
      return typeof value === 'string' ? (MANAGER_ALIASES[value.toLowerCase()] ?? value) : value;
    case 'resourceVersion':
      // The Python original sent -1 for "unset"; any other number is a revision.
      if (typeof value === 'number') return value < 0 ? undefined : String(value);
      return value === '' ? undefined : value;
    case 'timestamp':
      return value === '' ? undefined : value;
    case 'camelKeys': {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      const raw: Record<string, string> = {};
      for (const key of Object.keys(value).sort()) {
        const v = value[key];
        const name = toCamel(key);
        if (name === '__proto__') {
          causes.push({ field: join(path, key), message: 'invalid key' });
          continue;
        }
        if (raw[name] !== undefined) {
          causes.push({ field: join(path, key), message: `specified twice (${raw[name]} and ${key})` });
          continue;
        }
        raw[name] = key;
        if (v !== null) out[name] = copy(v);
      }
      return out;
    }
  }
  return value;
}

/**
 * Map keys are emitted sorted (as Go's encoding/json does for Kubernetes), so
 * equal maps serialise identically whatever order the client wrote them in.
 */
function walkMap(inner: Shape, value: Record<string, unknown>, path: string, causes: Cause[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (key === '__proto__') {
      causes.push({ field: join(path, key), message: 'invalid key' });
      continue;
    }
    out[key] = inner.plain ? copy(value[key]) : walk(inner, value[key], join(path, key), causes);
  }
  return out;
}

/** Walk `value` by `shape`; returns the new value (undefined: drop the field). */
export function walk(shape: Shape, value: unknown, path: string, causes: Cause[]): unknown {
  if (shape.hook === 'resources' || shape.hook === 'camelKeys') return runHook(shape.hook, value, path, causes);
  if (shape.k === 'map' && isPlainObject(value)) return walkMap(shape.inner as Shape, value, path, causes);
  if (shape.plain) return copy(value);
  switch (shape.k) {
    case 'object': {
      if (!isPlainObject(value)) return value;
      // Collect by property first, then emit in schema order: equal objects
      // serialise identically whatever order or spelling the client used.
      const found = new Map<Prop, unknown>();
      const props = shape.props as Map<string, Prop>;
      for (const key in value) {
        const v = value[key];
        const prop = props.get(key);
        if (prop === undefined) {
          causes.push({ field: join(path, key), message: 'unknown field' });
          continue;
        }
        // YAML `field:` with nothing after it means "not set", as in Kubernetes.
        if (v === null) continue;
        if (found.has(prop)) {
          causes.push({ field: join(path, key), message: `specified twice (${prop.name} and ${prop.alt})` });
          continue;
        }
        found.set(prop, v);
      }
      const out: Record<string, unknown> = {};
      for (const prop of shape.order as Prop[]) {
        let w: unknown;
        if (found.has(prop)) w = walk(prop.shape, found.get(prop), join(path, prop.name), causes);
        else if (prop.hasDefault) w = walk(prop.shape, copy(prop.default), join(path, prop.name), causes);
        if (w !== undefined) out[prop.name] = w;
      }
      return out;
    }
    case 'map': {
      if (!isPlainObject(value)) return value;
      return walkMap(shape.inner as Shape, value, path, causes);
    }
    case 'array': {
      if (!Array.isArray(value)) return value;
      const inner = shape.inner as Shape;
      return value.map((item, i) => walk(inner, item, `${path}[${i}]`, causes));
    }
    default:
      return shape.hook ? runHook(shape.hook, value, path, causes) : copy(value);
  }
}
