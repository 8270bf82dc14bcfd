/** The in-process API server over a memory store, and readers for its HTTP answers and watch streams (src/server tests). */
import assert from 'node:assert/strict';
import { openStore, type Store } from '../../src/store/index.js';
import { createApiServer, type ApiServer } from '../../src/server/index.js';

export interface Harness {
  server: ApiServer;
  store: Store;
  url: string;
  close(): Promise<void>;
}

/**
 * The API server over a fresh memory store. With `listen: false` it opens no
 * port (url is ''): requests go through `call` (Fastify's inject) only.
 */
export async function harness(options: { bookmarkIntervalMs?: number; watchHistory?: number; listen?: boolean } = {}): Promise<Harness> {
  const { listen = true, ...serverOptions } = options;
  const store = await openStore('memory:');
  const server = createApiServer({ store, ...serverOptions });
  const url = listen ? await server.start({ host: '127.0.0.1', port: 0 }) : (await server.ready(), '');
  return {
    server,
    store,
    url,
    async close() {
      await server.close();
      await store.close();
    },
  };
}

export const job = (name: string, labels: Record<string, string> = {}) => ({
  kind: 'Job',
  metadata: { name, labels },
  spec: { run: 'echo hi' },
});

export async function call(h: Harness, method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await h.server.app.inject({
    method: method as 'GET',
    url: path,
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } } : {}),
  });
  let json: any;
  try {
    json = res.json();
  } catch {
    json = undefined;
  }
  return { code: res.statusCode, json, text: res.body };
}

export function assertStatus(res: { code: number; json: any }, code: number, reason: string): void {
  assert.equal(res.code, code, JSON.stringify(res.json));
  assert.equal(res.json.kind, 'Status');
  assert.equal(res.json.status, 'Failure');
  assert.equal(res.json.code, code);
  assert.equal(res.json.reason, reason);
  assert.equal(typeof res.json.message, 'string');
}

/** An open watch read line by line, so a test can act after the stream has started. */
export async function openWatch(url: string) {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<any> {
      for (;;) {
        const nl = buffer.indexOf('\n');
        if (nl >= 0) {
          const line = JSON.parse(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          if (line.type !== 'BOOKMARK') return line;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('watch ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    close: () => controller.abort(),
  };
}

/** Reads NDJSON lines from a real watch until `count` lines or the stream ends. */
export async function watchLines(url: string, count: number, signal?: AbortSignal): Promise<any[]> {
  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort());
  const timer = setTimeout(() => controller.abort(), 10_000);
  const res = await fetch(url, { signal: controller.signal });
  assert.equal(res.status, 200);
  const lines: any[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
        if (lines.length >= count) return lines;
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return lines;
}
