/**
 * The client's browser transport: WHATWG fetch, nothing from Node, so the
 * dashboard (DESIGN section 16) uses the same client, watch reader and
 * informer as the CLI. Streams arrive as a ReadableStream the NDJSON reader
 * consumes chunk by chunk.
 *
 * TLS trust and connection pooling are the platform's (the browser's); the
 * one timeout it can enforce itself is the idle one: a call or stream with no
 * bytes moving for `idleTimeoutMs` is aborted. A buffered call counts from
 * sending until its body is complete.
 */
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  parseServerUrl,
  parseWarningHeader,
  type BufferedResponse,
  type StreamResponse,
  type Transport,
  type TransportRequest,
} from './transport.js';

export interface FetchTransportOptions {
  /** Default 300 s, as the Node transport. */
  idleTimeoutMs?: number;
  /** The fetch to call (default: the global one). */
  fetch?: typeof fetch;
}

export class FetchTransport implements Transport {
  private readonly base: string;
  private readonly idleTimeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(server: string, options: FetchTransportOptions = {}) {
    this.base = parseServerUrl(server).href.replace(/\/+$/, '');
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    // Called unbound, a browser's fetch throws "Illegal invocation".
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  async request(request: TransportRequest): Promise<BufferedResponse> {
    const watchdog = new Watchdog(request.signal, this.idleTimeoutMs);
    try {
      const res = await this.send(request, watchdog);
      const text = await res.text();
      const warnings = parseWarningHeader(res.headers.get('warning'));
      return { status: res.status, statusText: res.statusText, text, ...(warnings.length > 0 ? { warnings } : {}) };
    } catch (err) {
      throw watchdog.explain(err);
    } finally {
      watchdog.stop();
    }
  }

  async stream(request: TransportRequest): Promise<StreamResponse> {
    const watchdog = new Watchdog(request.signal, this.idleTimeoutMs);
    let res: Response;
    try {
      res = await this.send(request, watchdog);
    } catch (err) {
      watchdog.stop();
      throw watchdog.explain(err);
    }
    watchdog.touch();
    // Each chunk that arrives restarts the idle timer; the stream's end stops it.
    const body = (res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          watchdog.touch();
          controller.enqueue(chunk);
        },
        flush: () => watchdog.stop(),
      }),
    );
    return {
      status: res.status,
      statusText: res.statusText,
      body,
      close: () => watchdog.abort(),
    };
  }

  /** Nothing to release: the platform pools connections. */
  close(): void {}

  private send(request: TransportRequest, watchdog: Watchdog): Promise<Response> {
    return this.fetch(this.base + request.path, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal: watchdog.signal,
    });
  }
}

/**
 * One call's AbortController: aborted by the caller's signal, by close(), or
 * by `idleMs` passing without touch(). explain() turns the resulting
 * rejection into the caller's abort reason or a timeout error.
 */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  private readonly onAbort = () => this.abort(this.caller?.reason);

  constructor(
    private readonly caller: AbortSignal | undefined,
    private readonly idleMs: number,
  ) {
    if (caller?.aborted) this.controller.abort(caller.reason);
    else caller?.addEventListener('abort', this.onAbort, { once: true });
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.abort(new Error(`no response from the server for ${this.idleMs} ms`));
    }, this.idleMs);
  }

  abort(reason?: unknown): void {
    this.stop();
    this.controller.abort(reason);
  }

  /** Stops the timer and lets go of the caller's signal (a long-lived one must not collect listeners). */
  stop(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onAbort);
  }

  explain(err: unknown): unknown {
    if (this.caller?.aborted) return this.caller.reason;
    if (this.timedOut) return this.controller.signal.reason;
    return err;
  }
}
