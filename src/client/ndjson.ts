/**
 * Line reader for chunked HTTP bodies. Watch streams (NDJSON) and logs arrive in
 * arbitrary chunks: a line may be split across chunks and a chunk may hold many
 * lines, so we buffer until a newline before handing anything out.
 */

export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/**
 * A web stream is read through its reader even where it is also async-iterable
 * (Node): browsers without ReadableStream iteration then run the code Node's
 * tests run.
 */
function toIterable(source: ByteSource): AsyncIterable<Uint8Array> {
  if (!isWebStream(source)) return source;
  const stream = source;
  return {
    async *[Symbol.asyncIterator]() {
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}

function isWebStream(source: ByteSource): source is ReadableStream<Uint8Array> {
  return typeof (source as { getReader?: unknown }).getReader === 'function';
}

/** The whole body as text (an error response's Status, say). */
export async function readText(source: ByteSource): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of toIterable(source)) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** Yields complete lines (without the newline); a final unterminated line is yielded too. */
export async function* readLines(source: ByteSource, signal?: AbortSignal): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of toIterable(source)) {
    if (signal?.aborted) return;
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      // A chunk may hold many lines: none is handed out after an abort.
      if (signal?.aborted) return;
      yield line;
      nl = buffer.indexOf('\n');
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0 && !signal?.aborted) yield buffer.replace(/\r$/, '');
}

/**
 * Parses NDJSON; blank lines are skipped (servers may send them as keep-alives).
 * A malformed line is an error rather than silently skipped: a lost event
 * would leave an informer's cache wrong forever.
 */
export async function* readNdjson(source: ByteSource, signal?: AbortSignal): AsyncGenerator<unknown> {
  for await (const line of readLines(source, signal)) {
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as unknown;
    } catch {
      throw new SyntaxError(`malformed watch line: ${line.slice(0, 200)}`);
    }
  }
}
