/**
 * Watches of the FAKE Kubernetes API server, with the real semantics: no resourceVersion or "0" starts with the current
 * objects as ADDED; resourceVersion=N sends exactly the events after N (410 Gone ERROR event when N left the history);
 * objects entering or leaving the selector arrive as ADDED/DELETED; BOOKMARKs when asked; timeoutSeconds ends the stream;
 * sendInitialEvents=true (watch-list) ends the initial ADDED events with the `k8s.io/initial-events-end` bookmark.
 */
import type { ServerResponse } from 'node:http';
import type { FakeApi } from './api.js';
import { apiVersionOf, type ResourceInfo } from './resources.js';
import { matchFields, matchLabels, type FieldSelector, type LabelSelector } from './selectors.js';
import { badRequest, gone } from './status.js';
import type { StoreEvent } from './store.js';
import { toTable } from './table.js';
import type { KubeObject } from './types.js';

export interface WatchRequest {
  resource: ResourceInfo;
  namespace?: string;
  labels: LabelSelector;
  fields: FieldSelector;
  resourceVersion?: string;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds?: number;
  bookmarkIntervalMs: number;
  /** kubectl get -w asks for Tables: each event's object is a one-row Table, column definitions on the first only. */
  table?: boolean;
}

/** A client that stops reading is cut off once this much is queued for it, rather than growing the fake's memory. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export function serveWatch(api: FakeApi, w: WatchRequest, res: ServerResponse): void {
  const store = api.store;
  const rvParam = w.resourceVersion;
  let backlog: StoreEvent[] | 'gone' = [];
  const fromNow = rvParam === undefined || rvParam === '' || rvParam === '0';
  if (!fromNow) {
    if (!/^\d{1,15}$/.test(rvParam)) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a positive integer`);
    backlog = store.since(Number(rvParam));
  }
  if (w.sendInitialEvents && !w.allowBookmarks)
    throw badRequest('sendInitialEvents: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true');

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const r = w.resource;
  const send = (type: string, object: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > MAX_BUFFERED) return void res.destroy();
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const matches = (o: KubeObject | undefined) =>
    o !== undefined &&
    (w.namespace === undefined || o.metadata.namespace === w.namespace) &&
    matchLabels(w.labels, o.metadata.labels) &&
    matchFields(w.fields, o);
  let columnsSent = false;
  const withKind = (o: KubeObject): unknown => {
    if (!w.table) return api.withKind(r, o);
    const t = toTable(r, [o], o.metadata.resourceVersion ?? '') as { columnDefinitions: unknown[] };
    if (columnsSent) t.columnDefinitions = [];
    columnsSent = true;
    return t;
  };
  const bookmark = (annotations?: Record<string, string>) =>
    send('BOOKMARK', {
      kind: r.kind,
      apiVersion: apiVersionOf(r),
      metadata: { resourceVersion: String(store.resourceVersion), ...(annotations ? { annotations } : {}) },
    });

  if (backlog === 'gone') {
    send('ERROR', gone(Number(rvParam), store.oldestResumable + 1).status);
    res.end();
    return;
  }

  const after = fromNow ? 0 : Number(rvParam);
  const deliver = (e: StoreEvent) => {
    if (e.resource !== r.name || e.rv <= after) return;
    const now = matches(e.object);
    const before = e.type !== 'ADDED' && matches(e.prev);
    if (e.type === 'ADDED' && now) send('ADDED', withKind(e.object));
    else if (e.type === 'MODIFIED' && now) send(before ? 'MODIFIED' : 'ADDED', withKind(e.object));
    else if (e.type === 'MODIFIED' && before) send('DELETED', withKind(e.object));
    else if (e.type === 'DELETED' && before) send('DELETED', withKind(e.object));
  };

  if (fromNow || w.sendInitialEvents) {
    for (const o of store.list(r.name, w.namespace)) if (matches(o)) send('ADDED', withKind(o));
    if (w.sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
  }
  if (!fromNow) for (const e of backlog) deliver(e);
  const unsubscribe = store.subscribe(deliver);

  const timers: NodeJS.Timeout[] = [];
  if (w.allowBookmarks) timers.push(setInterval(() => bookmark(), w.bookmarkIntervalMs));
  if (w.timeoutSeconds !== undefined) timers.push(setTimeout(() => res.end(), w.timeoutSeconds * 1000));
  res.on('close', () => {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
  });
}
