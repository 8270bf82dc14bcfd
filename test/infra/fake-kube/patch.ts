/**
 * PATCH bodies of the FAKE Kubernetes API server: JSON merge patch (RFC 7386), strategic merge patch (merge patch whose
 * lists of named objects merge by `name` (conditions by `type`), `$patch`/`$setElementOrder` directives honoured or
 * dropped), and JSON patch (RFC 6902).
 */
import { badRequest, failure } from './status.js';
import { isRecord } from './types.js';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const mergeKey = (list: unknown[]): string | undefined =>
  list.length > 0 && list.every(isRecord)
    ? (['name', 'type'] as const).find((k) => list.every((e) => typeof (e as Record<string, unknown>)[k] === 'string'))
    : undefined;

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue; // $setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...: order and pruning hints
    if (v === null) delete out[k];
    else if (Array.isArray(v) && Array.isArray(out[k])) out[k] = mergeList(out[k] as unknown[], v);
    else if (isRecord(v)) out[k] = strategicMergePatch(out[k], v);
    else out[k] = v;
  }
  return out;
}

function mergeList(current: unknown[], patch: unknown[]): unknown[] {
  const key = mergeKey(patch.filter((e) => !(isRecord(e) && e.$patch === 'delete' && Object.keys(e).length === 2)).concat(current));
  if (!key) return patch.map(stripDirectives);
  const out = [...current] as Record<string, unknown>[];
  for (const p of patch as Record<string, unknown>[]) {
    const i = out.findIndex((e) => e[key] === p[key]);
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = strategicMergePatch(out[i], p) as Record<string, unknown>;
    else out.push(stripDirectives(p) as Record<string, unknown>);
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isRecord(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !k.startsWith('$'))
      .map(([k, x]) => [k, stripDirectives(x)]),
  );
}

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`json patch path "${path}" must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, parts: string[], path: string): { parent: Record<string, unknown> | unknown[]; key: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : isRecord(cur) ? cur[p] : undefined;
    if (cur === undefined) throw unprocessable(`jsonpatch: path "${path}" does not exist`);
  }
  if (!Array.isArray(cur) && !isRecord(cur)) throw unprocessable(`jsonpatch: path "${path}" does not exist`);
  return { parent: cur, key: parts[parts.length - 1]! };
}

const unprocessable = (message: string) => failure(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const p of pointer(path)) cur = Array.isArray(cur) ? cur[Number(p)] : isRecord(cur) ? cur[p] : undefined;
  if (cur === undefined) throw unprocessable(`jsonpatch: path "${path}" does not exist`);
  return cur;
}

function removeAt(doc: unknown, path: string): unknown {
  const { parent, key } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw unprocessable(`jsonpatch: path "${path}" does not exist`);
    return parent.splice(i, 1)[0];
  }
  if (!(key in parent)) throw unprocessable(`jsonpatch: path "${path}" does not exist`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length || (replace && i >= parent.length))
      throw unprocessable(`jsonpatch: index out of range in "${path}"`);
    parent.splice(i, replace ? 1 : 0, value);
  } else {
    if (replace && !(key in parent)) throw unprocessable(`jsonpatch: path "${path}" does not exist`);
    parent[key] = value;
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch must be a list of operations');
  if (ops.length > 10_000) throw failure(422, 'Invalid', 'json patch has too many operations');
  let doc = structuredClone(target);
  for (const raw of ops) {
    if (!isRecord(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw badRequest('json patch operation needs "op" and "path"');
    const op = raw as unknown as Op;
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, structuredClone(op.value), false);
        break;
      case 'replace':
        doc = addAt(doc, op.path, structuredClone(op.value), true);
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'move':
      case 'copy': {
        if (typeof op.from !== 'string') throw badRequest(`json patch ${op.op} needs "from"`);
        const v = op.op === 'move' ? removeAt(doc, op.from) : structuredClone(getAt(doc, op.from));
        doc = addAt(doc, op.path, v, false);
        break;
      }
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) throw unprocessable(`testing value ${op.path} failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}
