/**
 * TypeBox validation errors -> causes in plain words with our field paths
 * (`spec.ports[0]`, not `/spec/ports/0`). Only runs on failure, so it may walk.
 */
import type { TLocalizedValidationError } from 'typebox/error';
import type { Cause } from './errors.js';

type JsonSchema = Record<string, any>;

function decode(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** JSON pointer into `root` -> `a.b[0].c`, using the value to tell list indices from keys. */
export function pointerToPath(pointer: string, root: unknown, prefix = ''): string {
  let path = prefix;
  let node: any = root;
  if (pointer === '') return path;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = decode(raw);
    if (Array.isArray(node)) path = `${path}[${seg}]`;
    else path = path === '' ? seg : `${path}.${seg}`;
    node = node !== null && typeof node === 'object' ? node[seg] : undefined;
  }
  return path;
}

function schemaAt(root: JsonSchema, schemaPath: string): JsonSchema | undefined {
  let node: any = root;
  const rest = schemaPath.replace(/^#\/?/, '');
  if (rest === '') return node;
  for (const raw of rest.split('/')) {
    node = node?.[decode(raw)];
    if (node === undefined) return undefined;
  }
  return node;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'must be a string',
  integer: 'must be an integer',
  number: 'must be a number',
  boolean: 'must be true or false',
  object: 'must be an object',
  array: 'must be a list',
  null: 'must be null',
};

function show(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}

function valueAt(root: unknown, pointer: string): unknown {
  let node: any = root;
  if (pointer === '') return node;
  for (const raw of pointer.slice(1).split('/')) node = node?.[decode(raw)];
  return node;
}

/** Turn every error into zero or more causes; duplicates removed, order kept. */
export function errorsToCauses(errors: TLocalizedValidationError[], value: unknown, schema: JsonSchema, prefix = ''): Cause[] {
  const out: Cause[] = [];
  const seen = new Set<string>();
  const push = (field: string, message: string) => {
    const id = `${field}\u0000${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ field, message });
  };
  for (const e of errors) {
    const field = pointerToPath(e.instancePath, value, prefix);
    const p = e.params as Record<string, any>;
    const node = schemaAt(schema, e.schemaPath);
    switch (e.keyword) {
      case 'required':
        for (const name of (p.requiredProperties ?? []) as string[]) push(field === '' ? name : `${field}.${name}`, 'required');
        break;
      case 'additionalProperties':
        for (const name of (p.additionalProperties ?? []) as string[]) push(field === '' ? name : `${field}.${name}`, 'unknown field');
        break;
      case 'boolean':
        // `additionalProperties: false` reports each extra key twice; the case above covers it.
        break;
      case 'type': {
        const types = Array.isArray(p.type) ? p.type : [p.type];
        push(field, types.map((t: string) => TYPE_WORDS[t] ?? `must be ${t}`).join(' or '));
        break;
      }
      case 'enum': {
        const got = valueAt(value, e.instancePath);
        const allowed = (p.allowedValues as unknown[]).map(String).join(', ');
        push(field, `must be one of ${allowed}${typeof got === 'string' || typeof got === 'number' ? ` (got ${show(got)})` : ''}`);
        break;
      }
      case 'const':
        push(field, `must be ${show(p.allowedValue)}`);
        break;
      case 'minimum':
        push(field, `must be >= ${p.limit}`);
        break;
      case 'maximum':
        push(field, `must be <= ${p.limit}`);
        break;
      case 'exclusiveMinimum':
        push(field, `must be > ${p.limit}`);
        break;
      case 'exclusiveMaximum':
        push(field, `must be < ${p.limit}`);
        break;
      case 'minLength':
        push(field, p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters`);
        break;
      case 'maxLength':
        push(field, `must be at most ${p.limit} characters`);
        break;
      case 'minItems':
        push(field, p.limit === 1 ? 'must not be empty' : `must have at least ${p.limit} items`);
        break;
      case 'maxItems':
        push(field, `must have at most ${p.limit} items`);
        break;
      case 'uniqueItems':
        push(field, 'must not contain duplicates');
        break;
      case 'pattern':
        push(field, typeof node?.['x-error'] === 'string' ? node['x-error'] : 'has an invalid format');
        break;
      case 'format':
        push(field, `must be a valid ${p.format}`);
        break;
      default:
        push(field, typeof node?.['x-error'] === 'string' ? node['x-error'] : 'is invalid');
    }
  }
  return out;
}
