/**
 * Hostile input that once produced 500s, silent acceptance or no answer:
 * each must now be a 4xx Status (or, for an empty watch, headers at once).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { openStore, type Store } from '../store/index.js';
import { describeClientError, rawStatusResponse } from './client-errors.js';
import { createApiServer, type ApiServer } from './index.js';

let server: ApiServer;
let store: Store;
let url: string;

before(async () => {
  store = await openStore('memory:');
  server = createApiServer({ store });
  url = await server.start({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await server.close();
  await store.close();
});

async function call(method: string, path: string, body?: string, contentType = 'application/json') {
  const res = await server.app.inject({
    method: method as 'GET',
    url: path,
    ...(body !== undefined ? { payload: body, headers: { 'content-type': contentType } } : {}),
  });
  return { code: res.statusCode, json: res.json() as any };
}

function assertClientStatus(res: { code: number; json: any }, codes: number[]): void {
  assert.ok(codes.includes(res.code), `HTTP ${res.code}: ${JSON.stringify(res.json)}`);
  assert.equal(res.json.kind, 'Status');
  assert.equal(res.json.code, res.code);
  assert.ok(res.json.message.length > 0);
}

const job = (name: string) => JSON.stringify({ kind: 'Job', metadata: { name }, spec: { run: 'echo' } });

describe('bodies', () => {
  test('YAML alias to an undefined anchor is 400; alias bombs are 413', async () => {
    assertClientStatus(await call('POST', '/default/jobs', 'kind: Job\nmetadata:\n  name: y\nspec:\n  run: *nope\n', 'application/yaml'), [400]);
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    const bomb = `kind: Job\nmetadata:\n  name: y\nspec:\n  run: echo\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
    const res = await call('POST', '/default/jobs', bomb, 'application/yaml');
    assertClientStatus(res, [413]);
    assert.match(res.json.message, /alias/i);
  });

  test('bodies nested deeper than 64 levels are 400 before validation', async () => {
    const deep = `{"kind":"Job","metadata":{"name":"d"},"spec":{"run":"x","envs":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`;
    const res = await call('POST', '/default/jobs', deep);
    assertClientStatus(res, [400]);
    assert.match(res.json.message, /nested deeper than 64/);
    assertClientStatus(await call('POST', '/default/jobs', `${'['.repeat(10_000)}${']'.repeat(10_000)}`), [400]);
  });
});

describe('patches', () => {
  before(async () => {
    assert.equal((await call('POST', '/default/jobs', job('target'))).code, 201);
  });

  test('JSON patch paths naming __proto__, constructor or prototype are 400 naming the path', async () => {
    for (const op of [
      { op: 'replace', path: '/__proto__/polluted', value: 1 },
      { op: 'add', path: '/metadata/labels/__proto__', value: { x: 'y' } },
      { op: 'add', path: '/spec/constructor/prototype/polluted', value: 1 },
      { op: 'copy', from: '/__proto__', path: '/spec/x' },
    ]) {
      const res = await call('PATCH', '/default/jobs/target', JSON.stringify([op]), 'application/json-patch+json');
      assertClientStatus(res, [400]);
      assert.ok(res.json.message.includes(op.from ?? op.path), res.json.message);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('merge patch __proto__ keys are unknown fields, as on POST', async () => {
    for (const patch of ['{"__proto__":{"polluted":true}}', '{"spec":{"__proto__":{"polluted":true}}}']) {
      const res = await call('PATCH', '/default/jobs/target', patch, 'application/merge-patch+json');
      assertClientStatus(res, [400, 422]);
      assert.match(res.json.message, /__proto__/);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('changing or removing metadata.uid is 422 field is immutable; omitting it on PUT is fine', async () => {
    const current = (await call('GET', '/default/jobs/target')).json;
    const cases: [string, string, string][] = [
      ['PATCH', '{"metadata":{"uid":"evil"}}', 'application/merge-patch+json'],
      ['PATCH', '[{"op":"replace","path":"/metadata/uid","value":"x"}]', 'application/json-patch+json'],
      ['PATCH', '[{"op":"remove","path":"/metadata/uid"}]', 'application/json-patch+json'],
      ['PUT', JSON.stringify({ ...current, metadata: { ...current.metadata, uid: 'other', resourceVersion: undefined } }), 'application/json'],
    ];
    for (const [method, body, type] of cases) {
      const res = await call(method, '/default/jobs/target', body, type);
      assertClientStatus(res, [422]);
      assert.equal(res.json.reason, 'Invalid');
      assert.match(res.json.message, /metadata\.uid: field is immutable/);
    }
    const { uid: _uid, resourceVersion: _rv, ...metadata } = current.metadata;
    const put = await call('PUT', '/default/jobs/target', JSON.stringify({ ...current, metadata }));
    assert.equal(put.code, 200);
    assert.equal(put.json.metadata.uid, current.metadata.uid);
    const same = await call('PATCH', '/default/jobs/target', JSON.stringify({ metadata: { uid: current.metadata.uid } }), 'application/merge-patch+json');
    assert.equal(same.code, 200);
  });
});

describe('connections', () => {
  test('a watch on an empty namespace answers headers at once', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/default/services?watch=true&labelSelector=a%3D%3D`, (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.setTimeout(2_000, () => req.destroy(new Error('no headers within 2 s')));
      req.end();
    });
    assert.equal(status, 200);
  });

  async function raw(bytes: string): Promise<string> {
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: Number(port) });
      let out = '';
      sock.setEncoding('latin1');
      sock.on('data', (c: string) => {
        out += c;
        // Stop at the end of the first response; a kept-alive socket would otherwise stay open.
        const head = out.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(out.slice(0, head))?.[1]);
        if (head >= 0 && out.length >= head + 4 + length) sock.destroy();
      });
      sock.on('close', () => resolve(out));
      sock.on('error', reject);
      sock.write(bytes);
    });
  }

  function statusOf(response: string): { code: number; body: any } {
    const code = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
    return { code, body: JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) };
  }

  test('parser errors, unknown methods and a missing Host answer Status bodies', async () => {
    for (const bytes of [
      'GARBAGE\r\n\r\n',
      'BREW /default/jobs HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /default/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /default/jobs/nope HTTP/1.1\r\n\r\n',
    ]) {
      const { code, body } = statusOf(await raw(bytes));
      assert.equal(code, 400, bytes);
      assert.equal(body.kind, 'Status');
      assert.equal(body.code, 400);
      assert.equal(body.reason, 'BadRequest');
    }
    const big = statusOf(await raw(`GET /default/jobs?labelSelector=${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    assert.equal(big.code, 431);
    assert.equal(big.body.code, 431);
  });

  test('raw Status responses are well-formed HTTP', () => {
    const { code, message } = describeClientError(Object.assign(new Error('x'), { code: 'HPE_HEADER_OVERFLOW' }));
    const text = rawStatusResponse(code, message);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.match(text, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(text, new RegExp(`Content-Length: ${Buffer.byteLength(body)}\r\n`));
    assert.equal(JSON.parse(body).code, 431);
  });
});
