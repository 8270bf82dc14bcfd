import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { loggerOptions } from '../bin/logger.js';
import { openStore } from '../store/index.js';
import { accessLogEntry } from './access-log.js';
import { createApiServer } from './app.js';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

test('--access-log: one line per request with method, route, status, duration; level names; no body or token', async () => {
  const { lines, stream } = capture();
  const logger = pino(loggerOptions('info', 'test'), stream);
  const server = createApiServer({ store: await openStore('memory:'), logger, accessLog: true });
  await server.ready();
  try {
    const res = await server.app.inject({
      method: 'POST',
      url: '/default/jobs',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token-123' },
      payload: { metadata: { name: 'a' }, spec: { run: 'echo secret-body' } },
    });
    assert.equal(res.statusCode, 201);
    const access = lines.filter((l) => l.msg === 'request');
    assert.equal(access.length, 1);
    const entry = access[0] as Record<string, unknown>;
    assert.equal(entry.level, 'info');
    assert.equal(entry.method, 'POST');
    assert.equal(entry.route, '/{namespace}/jobs');
    assert.equal(entry.status, 201);
    assert.equal(typeof entry.durationMs, 'number');
    const text = JSON.stringify(lines);
    assert.doesNotMatch(text, /secret-token-123|secret-body/);
  } finally {
    await server.close();
  }
});

test('without --access-log nothing is logged per request', async () => {
  const { lines, stream } = capture();
  const server = createApiServer({ store: await openStore('memory:'), logger: pino(loggerOptions('info', 'test'), stream) });
  await server.ready();
  try {
    await server.app.inject({ method: 'GET', url: '/default/jobs' });
    assert.equal(lines.filter((l) => l.msg === 'request').length, 0);
  } finally {
    await server.close();
  }
});

test('the access log names the authenticated user', () => {
  const entry = accessLogEntry(
    { method: 'GET', skyRoute: '/clusters', skyPrincipal: { user: 'alice' } } as never,
    { statusCode: 200, elapsedTime: 1.234 } as never,
  );
  assert.deepEqual(entry, { method: 'GET', route: '/clusters', status: 200, durationMs: 1.23, user: 'alice' });
});
