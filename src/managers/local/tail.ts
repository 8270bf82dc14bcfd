/**
 * Reading replica log files: last N lines, and `tail -f` across several files
 * at once. Following is done by polling file sizes: fs.watch misses events on
 * some filesystems and for files that do not exist yet, polling does not.
 */
import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { sleep } from '../../lib/index.js';

export interface LogSource {
  path: string;
  /** True once nothing more will be written (the replica has exited). */
  finished(): Promise<boolean>;
}

export interface TailOptions {
  follow?: boolean;
  tail?: number;
  signal?: AbortSignal;
  pollMs?: number;
}

const CHUNK = 64 * 1024;

async function size(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Byte offset at which the last `n` lines of the file begin. */
export async function tailOffset(path: string, n: number): Promise<number> {
  const end = await size(path);
  if (n <= 0) return end;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return 0;
  }
  try {
    const buf = Buffer.alloc(CHUNK);
    let pos = end;
    let newlines = 0;
    // A trailing newline ends the last line; it does not start another one.
    let skipLast = false;
    if (end > 0) {
      const { bytesRead } = await fh.read(buf, 0, 1, end - 1);
      skipLast = bytesRead === 1 && buf[0] === 0x0a;
    }
    while (pos > 0) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      await fh.read(buf, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) continue;
        if (skipLast && pos + i === end - 1) continue;
        if (++newlines === n) return pos + i + 1;
      }
    }
    return 0;
  } finally {
    await fh.close();
  }
}

class Reader {
  offset: number;
  private decoder = new StringDecoder('utf8');
  private partial = '';
  done = false;
  constructor(
    readonly source: LogSource,
    offset: number,
  ) {
    this.offset = offset;
  }

  /** Complete lines written since the last call. */
  async readLines(maxBytes = 1024 * 1024): Promise<string[]> {
    const end = await size(this.source.path);
    if (end < this.offset) this.offset = 0; // truncated: start over
    if (end === this.offset) return [];
    const fh = await open(this.source.path, 'r');
    try {
      const len = Math.min(end - this.offset, maxBytes);
      const buf = Buffer.alloc(len);
      const { bytesRead } = await fh.read(buf, 0, len, this.offset);
      this.offset += bytesRead;
      const text = this.partial + this.decoder.write(buf.subarray(0, bytesRead));
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      return lines;
    } finally {
      await fh.close();
    }
  }

  /** What is left once the file is complete: a last line without its newline. */
  flush(): string[] {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest === '' ? [] : [rest];
  }
}

/**
 * Lines (without their newline) of every source. Without `follow`, each file
 * is read to its current end, one after the other. With `follow`, all files
 * are polled in turn so lines interleave in the order they arrive, until every
 * source is finished and drained, or the signal aborts (which ends the stream
 * quietly: a client going away is not an error).
 */
export async function* readLogs(sources: LogSource[], options: TailOptions = {}): AsyncGenerator<string> {
  const { signal, pollMs = 200 } = options;
  const readers: Reader[] = [];
  for (const s of sources) readers.push(new Reader(s, options.tail === undefined ? 0 : await tailOffset(s.path, options.tail)));

  if (!options.follow) {
    for (const r of readers) {
      for (;;) {
        if (signal?.aborted) return;
        const lines = await r.readLines();
        if (lines.length === 0) break;
        yield* lines;
      }
      yield* r.flush();
    }
    return;
  }

  while (readers.some((r) => !r.done)) {
    if (signal?.aborted) return;
    let progressed = false;
    for (const r of readers) {
      if (r.done) continue;
      // Check before reading: a source finished before this read has written everything it ever will.
      const finished = await r.source.finished();
      const lines = await r.readLines();
      if (lines.length > 0) {
        progressed = true;
        for (const line of lines) {
          if (signal?.aborted) return;
          yield line;
        }
      } else if (finished) {
        r.done = true;
        yield* r.flush();
      }
    }
    if (!progressed && !(await sleep(pollMs, signal))) return;
  }
}

/**
 * The ranks a log request reads. A follow of a task whose replica has not
 * been started on this cluster yet (placed, its directory not made) waits for
 * it, polling, until it appears or the signal aborts (undefined then), as
 * `logs -f` users expect; without follow, a missing replica is answered at once.
 */
export async function ranksToRead(
  list: () => Promise<number[]>,
  wanted: (rank: number) => boolean,
  options: { follow?: boolean; signal?: AbortSignal; pollMs?: number },
): Promise<number[] | undefined> {
  for (;;) {
    const ranks = (await list()).filter(wanted);
    if (ranks.length > 0 || !options.follow) return ranks;
    if (!(await sleep(options.pollMs ?? 200, options.signal))) return undefined;
  }
}
