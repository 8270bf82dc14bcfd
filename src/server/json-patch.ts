/**
 * JSON patch (RFC 6902), applied one operation at a time with the work it
 * causes bounded (DESIGN section 17). fast-json-patch was not: its validation
 * deep-cloned the whole document for every `move`/`copy`, its `move` cloned
 * what it overwrote, and nothing stopped chained copies from doubling the
 * document 26 times (a 3.5 KB patch stalled the server 19 s at 2 GB).
 *
 * Here the op count is limited, and a running size estimate (the object plus
 * everything added or copied, never reduced by removals) must stay within
 * maxExpandedBytes: a copy's size is measured before it is made, by a walk that
 * stops at the remaining budget, so the whole patch costs O(budget + patch).
 */
import { ApiError, badRequest } from '../api/index.js';
import { formatBytes, limits } from '../api/limits.js';
import { copy, isPlainObject } from '../api/shape.js';
import { sizeWithin, tooLarge } from './body-limits.js';

type Container = Record<string, unknown> | unknown[];

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
/** Keys a path may not name: walking them reaches prototypes, not data. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const INDEX = /^(0|[1-9][0-9]{0,8})$/;

interface Op {
  op: string;
  path: string[];
  from?: string[];
  value?: unknown;
}

/** RFC 6902 on a copy of `target`; a bad operation is a 4xx naming it, a failed test a 409. */
export function jsonPatch(target: Record<string, unknown>, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('a JSON patch must be an array of operations');
  const lim = limits();
  if (patch.length > lim.maxPatchOps) {
    throw tooLarge(`JSON patch has ${patch.length} operations; at most ${lim.maxPatchOps} are allowed`);
  }
  const ops = patch.map(parseOp);
  try {
    return applyOps(target, ops, lim.maxExpandedBytes);
  } catch (err) {
    // Moves can nest the document deeper with every op; copying it then recurses past the stack.
    if (err instanceof RangeError) throw badRequest(`invalid JSON patch: it nests the object too deeply`);
    throw err;
  }
}

function applyOps(target: Record<string, unknown>, ops: Op[], budget: number): unknown {
  let estimate = sizeWithin(target, budget);
  let doc: unknown = copy(target);
  const grow = (value: unknown, index: number) => {
    estimate += sizeWithin(value, budget - estimate);
    if (estimate > budget) throw tooLarge(`JSON patch would make the object larger than ${formatBytes(budget)} (operation ${index})`);
  };
  ops.forEach((op, i) => {
    switch (op.op) {
      case 'add':
        grow(op.value, i);
        doc = put(doc, op.path, op.value, 'add', i);
        break;
      case 'replace':
        grow(op.value, i);
        doc = put(doc, op.path, op.value, 'replace', i);
        break;
      case 'remove':
        doc = take(doc, op.path, i, 'path');
        break;
      case 'move': {
        const from = op.from!;
        if (from.length < op.path.length && from.every((s, k) => s === op.path[k])) {
          throw fail(i, `cannot move ${pointer(from)} into its own child ${pointer(op.path)}`);
        }
        const value = get(doc, from, i, 'from');
        doc = take(doc, from, i, 'from');
        doc = put(doc, op.path, value, 'add', i);
        break;
      }
      case 'copy': {
        const value = get(doc, op.from!, i, 'from');
        grow(value, i); // measured (and refused) before the copy is made
        doc = put(doc, op.path, copy(value), 'add', i);
        break;
      }
      case 'test': {
        const found = get(doc, op.path, i, 'path');
        if (!jsonEqual(found, op.value)) {
          throw new ApiError('Conflict', `JSON patch test failed: the value at ${pointer(op.path)} differs (operation ${i})`);
        }
        break;
      }
    }
  });
  return doc;
}

function fail(index: number, message: string): ApiError {
  return badRequest(`invalid JSON patch: ${message} (operation ${index})`);
}

function pointer(segments: string[]): string {
  return segments.length === 0 ? "''" : `'/${segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}'`;
}

function parseOp(raw: unknown, index: number): Op {
  if (!isPlainObject(raw)) throw fail(index, 'an operation must be an object');
  const op = raw.op;
  if (typeof op !== 'string' || !OPS.has(op)) {
    throw fail(index, `op ${JSON.stringify(op)?.slice(0, 40)} is not one of add, remove, replace, move, copy, test`);
  }
  const out: Op = { op, path: parsePointer(raw.path, 'path', index) };
  if (op === 'move' || op === 'copy') out.from = parsePointer(raw.from, 'from', index);
  if (op === 'add' || op === 'replace' || op === 'test') {
    if (!Object.hasOwn(raw, 'value')) throw fail(index, `'${op}' needs a value`);
    out.value = raw.value;
  }
  return out;
}

function parsePointer(raw: unknown, field: 'path' | 'from', index: number): string[] {
  if (typeof raw !== 'string') throw fail(index, `${field} must be a JSON pointer string`);
  if (raw === '') return [];
  if (!raw.startsWith('/')) throw fail(index, `${field} '${raw.slice(0, 200)}' must be empty or start with '/'`);
  const depth = raw.split('/', limits().maxDepth + 2).length - 1;
  if (depth > limits().maxDepth) throw fail(index, `${field} has more than ${limits().maxDepth} segments`);
  return raw
    .slice(1)
    .split('/')
    .map((s) => {
      const segment = s.replace(/~1/g, '/').replace(/~0/g, '~');
      if (FORBIDDEN_SEGMENTS.has(segment)) {
        throw badRequest(`invalid JSON patch: ${field} '${raw.slice(0, 200)}' (operation ${index}) names '${segment}', which is not allowed`);
      }
      return segment;
    });
}

/** The container holding the last segment of `path`, or a 400 naming where the path breaks. */
function parentOf(doc: unknown, path: string[], index: number, field: string): Container {
  let node = doc;
  for (let k = 0; k < path.length - 1; k++) {
    node = child(node, path[k]!);
    if (node === undefined) throw fail(index, `${field} ${pointer(path)} does not exist`);
  }
  if (typeof node !== 'object' || node === null) throw fail(index, `${field} ${pointer(path)} does not exist`);
  return node as Container;
}

function child(node: unknown, segment: string): unknown {
  if (Array.isArray(node)) return INDEX.test(segment) ? node[Number(segment)] : undefined;
  if (isPlainObject(node)) return Object.hasOwn(node, segment) ? node[segment] : undefined;
  return undefined;
}

function get(doc: unknown, path: string[], index: number, field: string): unknown {
  if (path.length === 0) return doc;
  const found = child(parentOf(doc, path, index, field), path[path.length - 1]!);
  if (found === undefined) throw fail(index, `${field} ${pointer(path)} does not exist`);
  return found;
}

/** add (insert or set) or replace (must exist) `value` at `path`; returns the new document. */
function put(doc: unknown, path: string[], value: unknown, mode: 'add' | 'replace', index: number): unknown {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path, index, 'path');
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    if (mode === 'add' && last === '-') parent.push(value);
    else if (!INDEX.test(last)) throw fail(index, `path ${pointer(path)}: '${last.slice(0, 40)}' is not a list index`);
    else {
      const i = Number(last);
      if (mode === 'add' && i <= parent.length) parent.splice(i, 0, value);
      else if (mode === 'replace' && i < parent.length) parent[i] = value;
      else throw fail(index, `path ${pointer(path)}: index ${i} is out of range (the list has ${parent.length} items)`);
    }
  } else {
    if (mode === 'replace' && !Object.hasOwn(parent, last)) throw fail(index, `path ${pointer(path)} does not exist`);
    parent[last] = value;
  }
  return doc;
}

/** Removes what `path` names (which must exist); returns the new document. */
function take(doc: unknown, path: string[], index: number, field: string): unknown {
  if (path.length === 0) return null;
  get(doc, path, index, field);
  const parent = parentOf(doc, path, index, field);
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return doc;
}

/** Deep equality of JSON values; stops at the first difference. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  // Walk `b` (from the patch), never all of `a`: a test against a huge stored map stays cheap.
  const kb = Object.keys(b);
  if (!kb.every((k) => Object.hasOwn(a, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))) return false;
  let n = 0;
  for (const k in a) if (Object.hasOwn(a, k) && ++n > kb.length) return false;
  return n === kb.length;
}
