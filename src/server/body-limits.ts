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
 * Depth, node count and finite numbers of a JSON value in one pass. Paths are
 * only built on the way out of an error, so the common case allocates nothing.
 */
export function checkDecoded(value: unknown): void {
  const lim = limits();
  let nodes = 0;
  // Iterative, so a deep body cannot overflow the stack before it is refused.
  const stack: { v: unknown; depth: number; parent: number; key: string | number }[] = [{ v: value, depth: 1, parent: -1, key: '' }];
  const seen: { parent: number; key: string | number }[] = [];
  const pathOf = (index: number): string => {
    const keys: (string | number)[] = [];
    for (let i = index; i > 0; i = seen[i]!.parent) keys.push(seen[i]!.key);
    return keys.reverse().reduce<string>((p, k) => join(p, k), '');
  };
  while (stack.length > 0) {
    const { v, depth, parent, key } = stack.pop()!;
    const index = seen.length;
    seen.push({ parent, key });
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw notFinite(pathOf(index));
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth > lim.maxDepth) throw tooDeepError(pathOf(index));
    if (Array.isArray(v)) {
      nodes += v.length;
      if (nodes > lim.maxBodyNodes) throw tooManyNodes();
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, parent: index, key: i });
    } else {
      const keys = Object.keys(v);
      nodes += keys.length;
      if (nodes > lim.maxBodyNodes) throw tooManyNodes();
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ v: (v as Record<string, unknown>)[keys[i]!], depth: depth + 1, parent: index, key: keys[i]! });
      }
    }
  }
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

/** A patched object must stay within what a body may be: size, depth, key count. */
export function checkPatched(value: unknown): void {
  const max = limits().maxExpandedBytes;
  if (sizeWithin(value, max) > max) throw tooLarge(`the patched object would be larger than ${formatBytes(max)}`);
  checkDecoded(value);
}
