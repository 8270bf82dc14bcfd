/**
 * A sorted set of strings kept as a list of small sorted chunks (the
 * "sorted list" layout): insert and remove are a binary search over chunk
 * ends plus a splice inside one chunk of at most MAX_CHUNK keys, so they cost
 * O(log n + chunk) instead of the O(n) splice of one big sorted array, and
 * range scans still walk keys in order without ever sorting.
 */

/** Chunks split above this size; a splice moves at most this many pointers. */
const MAX_CHUNK = 512;

export class SortedKeys {
  private chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Replaces the contents with `keys` (any order, no duplicates expected). */
  reset(keys: string[]): void {
    const sorted = [...keys].sort(compare);
    this.chunks = [];
    for (let i = 0; i < sorted.length; i += MAX_CHUNK / 2) this.chunks.push(sorted.slice(i, i + MAX_CHUNK / 2));
    this.count = sorted.length;
  }

  /** Adds `key`; a key already present is left as it is. */
  insert(key: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.count = 1;
      return;
    }
    // The first chunk whose last key is >= key; past the end, the last chunk takes it.
    const c = Math.min(this.chunkFor(key), this.chunks.length - 1);
    const chunk = this.chunks[c]!;
    const i = lowerBound(chunk, key);
    if (chunk[i] === key) return;
    if (i === chunk.length)
      chunk.push(key); // appends (names that sort last) are the common case
    else chunk.splice(i, 0, key);
    this.count++;
    if (chunk.length > MAX_CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(chunk.length >>> 1));
  }

  /** Removes `key` if present. */
  remove(key: string): void {
    const c = this.chunkFor(key);
    const chunk = this.chunks[c];
    if (chunk === undefined) return;
    const i = lowerBound(chunk, key);
    if (chunk[i] !== key) return;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /**
   * Calls `visit` with each key >= `from` in order until it returns false.
   * The set must not change during the walk.
   */
  scanFrom(from: string, visit: (key: string) => boolean): void {
    const first = this.chunkFor(from);
    for (let c = first; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      for (let i = c === first ? lowerBound(chunk, from) : 0; i < chunk.length; i++) {
        if (!visit(chunk[i]!)) return;
      }
    }
  }

  /** Index of the first chunk whose last key is >= key (chunks.length if none). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid]!;
      if (chunk[chunk.length - 1]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
