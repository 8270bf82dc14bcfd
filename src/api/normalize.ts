/**
 * Client input -> canonical object. Runs on every write, so everything that
 * depends only on the kind (shape, compiled validator) is built once, on the
 * first use of the kind, and each call only walks the input.
 *
 * Order: envelope checks -> shape walk (snake_case renaming, unknown fields,
 * defaults, units) -> kind `prepare` -> validation -> metadata and kind rules.
 * All problems are collected and reported together as one Invalid error.
 */
import { Compile } from 'typebox/compile';
import type { Validator } from 'typebox/compile';
import { ApiError, badRequest, invalid, type Cause } from './errors.js';
import type { KindInfo } from './kinds.js';
import { KIND_DEFS, type KindDef } from './kinds/index.js';
import { isLabelKey, isLabelValue, LABEL_KEY_RULE, LABEL_VALUE_RULE } from './labels.js';
import { formatBytes, limits, utf8Bytes, type Limits } from './limits.js';
import { errorsToCauses } from './messages.js';
import { validateName, validateSubdomainName } from './names.js';
import type { ApiObject } from './object.js';
import { buildShape, isPlainObject, walk, type Shape } from './shape.js';

interface Compiled {
  def: KindDef;
  shape: Shape;
  validator: Validator;
  statusShape: Shape;
  statusValidator: Validator;
}

const DEFS = new Map(KIND_DEFS.map((d) => [d.kind, d]));
const compiled = new Map<string, Compiled>();

function compiledFor(kind: KindInfo | string): Compiled {
  const name = typeof kind === 'string' ? kind : kind.kind;
  let c = compiled.get(name);
  if (c) return c;
  const def = DEFS.get(name);
  if (!def) throw new ApiError('InternalError', `unknown kind "${name}"`);
  c = {
    def,
    shape: buildShape(def.schema),
    validator: Compile(def.schema) as unknown as Validator,
    statusShape: buildShape(def.status),
    statusValidator: Compile(def.status) as unknown as Validator,
  };
  compiled.set(name, c);
  return c;
}

function describe(def: KindDef, obj: Record<string, any>): string {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') return def.singular;
  const ns = obj.metadata?.namespace;
  return def.namespaced && typeof ns === 'string' ? `${def.singular} '${ns}/${name}'` : `${def.singular} '${name}'`;
}

function checkMetadata(def: KindDef, meta: unknown, causes: Cause[]): void {
  if (!isPlainObject(meta)) return;
  if ('name' in meta) {
    const why = def.nameRule === 'subdomain' ? validateSubdomainName(meta.name) : validateName(meta.name);
    if (why && typeof meta.name === 'string') causes.push({ field: 'metadata.name', message: why });
  }
  if (def.namespaced && typeof meta.namespace === 'string') {
    const why = validateName(meta.namespace);
    if (why) causes.push({ field: 'metadata.namespace', message: why });
  }
  checkLabels(meta.labels, causes);
  if (isPlainObject(meta.annotations)) {
    for (const k of Object.keys(meta.annotations)) {
      if (!isLabelKey(k)) causes.push({ field: `metadata.annotations.${k}`, message: `invalid key: ${LABEL_KEY_RULE}` });
    }
  }
}

function checkLabels(labels: unknown, causes: Cause[]): void {
  if (!isPlainObject(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    if (!isLabelKey(k)) causes.push({ field: `metadata.labels.${k}`, message: `invalid key: ${LABEL_KEY_RULE}` });
    else if (typeof v === 'string' && !isLabelValue(v)) causes.push({ field: `metadata.labels.${k}`, message: LABEL_VALUE_RULE });
  }
}

/**
 * Size limits every kind shares, on the raw input: they run before the walk and
 * the per-entry checks, so an oversized map costs one count, not one cause per entry.
 */
function checkEnvelopeLimits(input: Record<string, unknown>, lim: Readonly<Limits>, causes: Cause[]): void {
  const meta = input.metadata;
  if (!isPlainObject(meta)) return;
  if (isPlainObject(meta.labels)) {
    const n = Object.keys(meta.labels).length;
    if (n > lim.maxLabels) {
      causes.push({ field: 'metadata.labels', message: `must have at most ${lim.maxLabels} entries, got ${n}` });
    }
  }
  if (isPlainObject(meta.annotations)) {
    let bytes = 0;
    const annotations = meta.annotations;
    for (const k in annotations) {
      const v = annotations[k];
      bytes += utf8Bytes(k) + (typeof v === 'string' ? utf8Bytes(v) : 0);
    }
    if (bytes > lim.maxAnnotationsBytes) {
      causes.push({
        field: 'metadata.annotations',
        message: `keys and values must total at most ${formatBytes(lim.maxAnnotationsBytes)}, got ${bytes} bytes`,
      });
    }
  }
}

function dedupe(causes: Cause[]): Cause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const id = `${c.field}\u0000${c.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Validate and normalise client input of a kind: snake_case accepted, unknown
 * fields rejected with their path, defaults applied, units converted. Throws
 * ApiError('Invalid') with details.causes (field paths) or ApiError('BadRequest').
 */
export interface NormalizeOptions {
  /**
   * Skip the size limits (replicas, env, labels...): for a status write, whose
   * spec and metadata are the stored ones, accepted under the limits of their
   * day. Lowering a limit must not make controllers unable to report status.
   */
  skipLimits?: boolean;
  /** Told about accepted-but-ignored fields of the original SkyShift (sent to clients as `Warning` headers). */
  warn?: (text: string) => void;
}

/** `metadata.manager_type` of the original SkyShift: accepted on any kind and ignored, with a warning. */
function dropLegacyMetadata(body: Record<string, unknown>, warn: (text: string) => void): void {
  const meta = body.metadata;
  if (!isPlainObject(meta)) return;
  const keys = ['manager_type', 'managerType'].filter((k) => k in meta);
  if (keys.length === 0) return;
  const copy = { ...meta };
  for (const k of keys) delete copy[k];
  body.metadata = copy;
  warn(`metadata.${keys[0]} is ignored (a field of the original SkyShift; a cluster's manager is spec.manager)`);
}

export function normalizeObject(kind: KindInfo | string, input: unknown, options: NormalizeOptions = {}): ApiObject {
  const c = compiledFor(kind);
  const def = c.def;
  if (!isPlainObject(input)) {
    throw badRequest(`a ${def.singular} must be an object, got ${Array.isArray(input) ? 'a list' : input === null ? 'null' : typeof input}`);
  }
  const causes: Cause[] = [];
  const lim = limits();
  if (!options.skipLimits) {
    checkEnvelopeLimits(input, lim, causes);
    def.countLimits?.(input, causes, lim);
    if (causes.length > 0) throw invalid(describe(def, input), causes);
  }
  if (input.kind !== undefined && input.kind !== null && input.kind !== def.kind) {
    causes.push({ field: 'kind', message: `expected "${def.kind}", got ${JSON.stringify(input.kind)}` });
  }
  if (input.apiVersion !== undefined && input.apiVersion !== null && typeof input.apiVersion !== 'string') {
    causes.push({ field: 'apiVersion', message: 'must be a string' });
  }
  const body: Record<string, unknown> = { ...input, kind: def.kind };
  delete body.apiVersion;
  const warn = options.warn ?? (() => {});
  dropLegacyMetadata(body, warn);
  def.legacy?.(body, causes, warn);
  const obj = walk(c.shape, body, '', causes) as Record<string, any>;
  if (!def.namespaced) {
    for (const cause of causes) {
      if (cause.field === 'metadata.namespace' && cause.message === 'unknown field') {
        cause.message = `must not be set: ${def.plural} are not namespaced`;
      }
    }
  }
  def.prepare?.(obj);
  if (!c.validator.Check(obj)) causes.push(...errorsToCauses(c.validator.Errors(obj), obj, def.schema));
  checkMetadata(def, obj.metadata, causes);
  def.check?.(obj, causes);
  if (!options.skipLimits) def.limits?.(obj, causes, lim);
  if (causes.length > 0) throw invalid(describe(def, obj), dedupe(causes));
  return {
    kind: def.kind,
    apiVersion: 'v1',
    metadata: obj.metadata,
    spec: obj.spec,
    status: obj.status,
  };
}

/**
 * Validate and normalise the body of a status subresource write (just the
 * `status` object). `name` only improves the error message.
 */
export function normalizeStatus(kind: KindInfo | string, statusInput: unknown, name?: string): Record<string, unknown> {
  const c = compiledFor(kind);
  const def = c.def;
  const what = name ? `${def.singular} '${name}' status` : `${def.singular} status`;
  if (!isPlainObject(statusInput)) throw badRequest(`${what} must be an object`);
  const causes: Cause[] = [];
  const status = walk(c.statusShape, statusInput, 'status', causes) as Record<string, unknown>;
  if (!c.statusValidator.Check(status)) {
    causes.push(...errorsToCauses(c.statusValidator.Errors(status), status, def.status as Record<string, any>, 'status'));
  }
  if (causes.length > 0) throw invalid(what, dedupe(causes));
  return status;
}
