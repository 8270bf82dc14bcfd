/**
 * Warnings of one request (fields of the original SkyShift accepted and
 * ignored), sent as `Warning` response headers the way Kubernetes does:
 * RFC 7234 warn-code 299, agent `-`, the text quoted. Collected through
 * AsyncLocalStorage, so normalisation deep in a write need not thread them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<string[]>();

/** Starts collecting for the rest of the calling request handler; returns the list it fills. */
export function beginWarnings(): string[] {
  const list: string[] = [];
  current.enterWith(list);
  return list;
}

/** Records a warning for the current request (deduplicated); a no-op outside one. */
export function addWarning(text: string): void {
  const list = current.getStore();
  if (list && !list.includes(text)) list.push(text);
}

/** One header value per warning: `299 - "text"` (quotes and backslashes escaped, control characters dropped). */
export function warningHeaderValues(list: readonly string[]): string[] {
  return list.map((t) => `299 - "${t.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/["\\]/g, (c) => `\\${c}`)}"`);
}
