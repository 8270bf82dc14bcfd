/**
 * Bounds on a decoded body before anything else walks it (DESIGN section 17):
 * nesting depth, keys plus list items, finite numbers; and a size estimate for
 * patched objects. Every walk here stops at the limit, so checking costs at
 * most the limit, not the size of what a client sent.
 */
import { ApiError, badRequest, type Cause } from '../api/index.js';
import { formatBytes, limits } from '../api/limits.js';

export function tooLarge(message: string): ApiError {
  return new ApiError('RequestEntityTooLarge', message);
}

export function tooDeepError(path: string): ApiError {
  const at = path === '' ? '' : ` (at ${path})`;
  return badRequest(`request body is nested deeper than ${limits().maxDepth} levels${at}`);
}

export function tooManyNodes(): ApiError {
  const max = limits().maxBodyNodes;
  return tooLarge(`request body has more than ${max} keys and list items together; at most ${max} are allowed`);
}

export function notFinite(path: string): ApiError {
  const field = path === '' ? '(body)' : path;
  const message = 'must be a finite number';
  return new ApiError('Invalid', `request body is invalid: ${field}: ${message}`, { causes: [{ field, message } satisfies Cause] });
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Depth, node count and finite numbers of a JSON value in one pass. Recursion
 * stops at maxDepth, so it cannot overflow the stack; the path is a stack of
 * keys, turned into text only for an error.
 */
export function checkDecoded(value: unknown, maxSize = Infinity): void {
  const lim = limits();
  const path: (string | number)[] = [];
  let nodes = 0;
  // Estimated JSON characters, as sizeWithin counts them; only checked when maxSize is given.
  let size = 0;
  const pathText = () => path.reduce<string>((p, k) => join(p, k), '');
  const visit = (v: unknown, depth: number): void => {
    if (typeof v === 'string') {
      size += v.length + 3;
      if (size > maxSize) throw patchedTooLarge(maxSize);
      return;
    }
    size += 8;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw notFinite(pathText());
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (depth > lim.maxDepth) throw tooDeepError(pathText());
    if (Array.isArray(v)) {
      nodes += v.length;
      size += v.length;
      if (nodes > lim.maxBodyNodes) throw tooManyNodes();
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        visit(v[i], depth + 1);
        path.pop();
      }
      return;
    }
    const keys = Object.keys(v);
    nodes += keys.length;
    if (nodes > lim.maxBodyNodes) throw tooManyNodes();
    for (const key of keys) {
      size += key.length + 4;
      path.push(key);
      visit((v as Record<string, unknown>)[key], depth + 1);
      path.pop();
    }
  };
  visit(value, 1);
}

/**
 * Approximate JSON size of `value` in characters, or Infinity as soon as it
 * passes `budget`: the walk stops there, so it never costs more than the budget.
 * Shared subtrees (YAML aliases) count every time they appear, as JSON would.
 */
export function sizeWithin(value: unknown, budget: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 3;
    else if (typeof v !== 'object' || v === null) size += 8;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    } else {
      size += 2;
      for (const key of Object.keys(v)) {
        size += key.length + 4;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
    if (size > budget) return Infinity;
  }
  return size;
}

function patchedTooLarge(max: number): ApiError {
  return tooLarge(`the patched object would be larger than ${formatBytes(max)}`);
}

/** A patched object must stay within what a body may be: size, depth, key count (one walk). */
export function checkPatched(value: unknown): void {
  checkDecoded(value, limits().maxExpandedBytes);
}
