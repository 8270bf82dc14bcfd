import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLines, readNdjson } from './ndjson.js';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('readNdjson joins a line split across chunks and splits many lines in one chunk', async () => {
  const events = await collect(readNdjson(chunks('{"type":"ADD', 'ED","n":1}\n{"type":"MODIFIED"}\n{"type"', ':"DELETED"}\n')));
  assert.deepEqual(events, [{ type: 'ADDED', n: 1 }, { type: 'MODIFIED' }, { type: 'DELETED' }]);
});

test('readNdjson survives a multi-byte character split between chunks', async () => {
  const bytes = new TextEncoder().encode('{"m":"héllo"}\n');
  const cut = bytes.indexOf(0xc3) + 1; // inside the two-byte é
  const events = await collect(readNdjson(chunks(bytes.slice(0, cut), bytes.slice(cut))));
  assert.deepEqual(events, [{ m: 'héllo' }]);
});

test('readNdjson skips blank keep-alive lines and yields a final unterminated line', async () => {
  const events = await collect(readNdjson(chunks('\n{"a":1}\r\n\n', '{"b":2}')));
  assert.deepEqual(events, [{ a: 1 }, { b: 2 }]);
});

test('readNdjson rejects a malformed line instead of dropping an event', async () => {
  await assert.rejects(collect(readNdjson(chunks('{"a":1}\n{nope\n'))), /malformed watch line/);
});

test('readLines reads a web ReadableStream', async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode('one\ntw'));
      c.enqueue(new TextEncoder().encode('o\n'));
      c.close();
    },
  });
  assert.deepEqual(await collect(readLines(stream)), ['one', 'two']);
});
