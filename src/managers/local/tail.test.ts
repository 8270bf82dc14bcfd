import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readLogs, tailOffset } from './tail.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function file(content: string | Buffer): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'skyshift-tail-'));
  dirs.push(d);
  const p = join(d, 'log');
  await writeFile(p, content);
  return p;
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of it) out.push(l);
  return out;
}

const done = (path: string) => ({ path, finished: async () => true });

describe('tailOffset / readLogs', () => {
  it('returns the last N lines with or without a trailing newline', async () => {
    for (const [content, expect] of [
      ['a\nb\nc\n', ['b', 'c']],
      ['a\nb\nc', ['b', 'c']],
      ['c\n', ['c']],
      ['', []],
    ] as const) {
      const p = await file(content);
      assert.deepEqual(await collect(readLogs([done(p)], { tail: 2 })), expect, JSON.stringify(content));
    }
    const p = await file('x\ny\n');
    assert.equal(await tailOffset(p, 10), 0);
    assert.equal(await tailOffset(p, 0), 4);
    assert.equal(await tailOffset(join(p, 'missing'), 3), 0);
  });

  it('finds lines across chunk boundaries and keeps multi-byte characters whole', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `line ${i} é€`);
    const p = await file(lines.join('\n') + '\n');
    assert.deepEqual(await collect(readLogs([done(p)], { tail: 3 })), lines.slice(-3));
    const all = await collect(readLogs([done(p)], {}));
    assert.equal(all.length, lines.length);
    assert.equal(all[12_345], lines[12_345]);
  });

  it('follows growing files until they are finished', async () => {
    const p = await file('first\n');
    let finished = false;
    const seen: string[] = [];
    const reading = (async () => {
      for await (const l of readLogs([{ path: p, finished: async () => finished }], { follow: true, pollMs: 10 })) seen.push(l);
    })();
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(p, 'sec');
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(p, 'ond\nthird');
    finished = true;
    await reading;
    assert.deepEqual(seen, ['first', 'second', 'third']);
  });

  it('stops following when the signal aborts', async () => {
    const p = await file('only\n');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const lines = await collect(readLogs([{ path: p, finished: async () => false }], { follow: true, pollMs: 10, signal: ac.signal }));
    assert.deepEqual(lines, ['only']);
  });
});
