/**
 * The typed REST client (DESIGN section 4) over any Transport. Nothing here
 * touches Node: the entry points pick the transport (index.ts: node:http,
 * browser.ts: fetch) and share this.
 */
// errors.js and object.js directly, not api/index.js: that loads every schema (kind-names.ts says why).
import { ApiError } from '../api/errors.js';
import type { ApiObject, ObjectList, WatchEvent } from '../api/object.js';
import { readLines, readNdjson, readText } from './ndjson.js';
import { kindInfo, objectPath, type KindRef } from './paths.js';
import type { BufferedResponse, Headers, StreamResponse, Transport } from './transport.js';

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:50051 */
  server: string;
  token?: string;
  /** Namespace used when a call does not name one. */
  namespace?: string;
  /** Called with each `Warning` the server answers (e.g. an ignored field of the original SkyShift). */
  onWarning?: (text: string) => void;
}

export interface ListOptions {
  namespace?: string;
  /** List a namespaced kind across every namespace. */
  allNamespaces?: boolean;
  labelSelector?: string;
  limit?: number;
  continue?: string;
  signal?: AbortSignal;
}

export interface WatchOptions {
  namespace?: string;
  allNamespaces?: boolean;
  name?: string;
  resourceVersion?: string;
  labelSelector?: string;
  signal?: AbortSignal;
}

export interface LogsOptions {
  follow?: boolean;
  tail?: number;
  cluster?: string;
  task?: string;
  signal?: AbortSignal;
}

export const DEFAULT_PAGE_SIZE = 500;

export interface ServerVersion {
  version: string;
  [key: string]: unknown;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** Writes may be server-side dry runs (`?dryRun=All`): validated and answered, nothing stored. */
export interface WriteOptions extends CallOptions {
  namespace?: string;
  dryRun?: boolean;
}

const dryRunQuery = (options: WriteOptions): URLSearchParams => new URLSearchParams(options.dryRun ? { dryRun: 'All' } : {});

/** The API server could not be reached at all (as opposed to answering with an error). */
export class UnreachableError extends ApiError {
  constructor(server: string, cause: unknown) {
    const detail = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
    super('ServiceUnavailable', `cannot reach SkyShift API server at ${server}: ${detail}`);
    this.name = 'UnreachableError';
  }
}

type Obj = ApiObject;

/** Typed REST client for DESIGN §4. Speaks HTTP only, through `transport`. */
export class RestClient {
  readonly server: string;
  readonly namespace: string;
  private readonly onWarning: ((text: string) => void) | undefined;
  private readonly token: string | undefined;

  constructor(
    options: ClientOptions,
    private readonly transport: Transport,
  ) {
    this.server = options.server.replace(/\/+$/, '');
    this.token = options.token;
    this.namespace = options.namespace ?? 'default';
    this.onWarning = options.onWarning;
  }

  async get<T extends Obj = Obj>(kind: KindRef, name: string, options: CallOptions & { namespace?: string } = {}): Promise<T> {
    return (await this.json('GET', this.path(kind, options.namespace, name), undefined, options.signal)) as T;
  }

  async list<T extends Obj = Obj>(kind: KindRef, options: ListOptions = {}): Promise<ObjectList<T>> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.continue) query.set('continue', options.continue);
    const ns = options.allNamespaces ? undefined : options.namespace;
    const path = this.path(kind, ns, undefined, options.allNamespaces);
    return (await this.json('GET', withQuery(path, query), undefined, options.signal)) as ObjectList<T>;
  }

  /**
   * Every item, following `continue` pages of `pageSize` (default 500).
   * Pages are read at different moments, so the returned resourceVersion is
   * the FIRST page's: a watch resumed from it replays every change made while
   * the later pages were read, and none is lost (an object may be seen twice).
   */
  async listAll<T extends Obj = Obj>(kind: KindRef, options: Omit<ListOptions, 'limit' | 'continue'> & { pageSize?: number } = {}): Promise<ObjectList<T>> {
    const { pageSize = DEFAULT_PAGE_SIZE, ...rest } = options;
    const first = await this.list<T>(kind, { ...rest, limit: pageSize });
    const items = [...first.items];
    let token = first.metadata.continue;
    while (token) {
      const page = await this.list<T>(kind, { ...rest, limit: pageSize, continue: token });
      items.push(...page.items);
      token = page.metadata.continue;
    }
    const { continue: _done, ...metadata } = first.metadata;
    return { ...first, metadata, items };
  }

  /** Server build information from `/version`. */
  async version(options: CallOptions = {}): Promise<ServerVersion> {
    return (await this.json('GET', '/version', undefined, options.signal)) as ServerVersion;
  }

  async create<T extends Obj = Obj>(kind: KindRef, object: unknown, options: WriteOptions = {}): Promise<T> {
    const ns = options.namespace ?? metaNamespace(object);
    return (await this.json('POST', withQuery(this.path(kind, ns), dryRunQuery(options)), object, options.signal)) as T;
  }

  /** PUT: carries metadata.resourceVersion, so a stale copy fails with Conflict. */
  async update<T extends Obj = Obj>(kind: KindRef, object: Obj, options: WriteOptions = {}): Promise<T> {
    const ns = options.namespace ?? object.metadata.namespace;
    return (await this.json('PUT', withQuery(this.path(kind, ns, object.metadata.name), dryRunQuery(options)), object, options.signal)) as T;
  }

  async updateStatus<T extends Obj = Obj>(kind: KindRef, object: Obj, options: CallOptions & { namespace?: string } = {}): Promise<T> {
    const ns = options.namespace ?? object.metadata.namespace;
    return (await this.json('PUT', this.path(kind, ns, object.metadata.name) + '/status', object, options.signal)) as T;
  }

  /** JSON merge patch (RFC 7386), or with `type: 'json'` a JSON patch (RFC 6902). */
  async patch<T extends Obj = Obj>(
    kind: KindRef,
    name: string,
    patch: unknown,
    options: CallOptions & { namespace?: string; type?: 'merge' | 'json' } = {},
  ): Promise<T> {
    const contentType = options.type === 'json' ? 'application/json-patch+json' : 'application/merge-patch+json';
    return (await this.json('PATCH', this.path(kind, options.namespace, name), patch, options.signal, contentType)) as T;
  }

  async delete<T = unknown>(kind: KindRef, name: string, options: WriteOptions & { resourceVersion?: string } = {}): Promise<T> {
    const query = dryRunQuery(options);
    if (options.resourceVersion) query.set('resourceVersion', options.resourceVersion);
    return (await this.json('DELETE', withQuery(this.path(kind, options.namespace, name), query), undefined, options.signal)) as T;
  }

  /**
   * Streams watch events until the server closes the stream or `signal` aborts.
   * HTTP errors (e.g. 410 before the stream starts) are thrown as ApiError;
   * in-stream ERROR events are yielded for the caller to interpret.
   */
  async *watch<T extends Obj = Obj>(kind: KindRef, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const query = new URLSearchParams({ watch: 'true' });
    if (options.resourceVersion) query.set('resourceVersion', options.resourceVersion);
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    const ns = options.allNamespaces ? undefined : options.namespace;
    const path = this.path(kind, ns, options.name, options.allNamespaces);
    const res = await this.stream(withQuery(path, query), options.signal);
    try {
      for await (const value of readNdjson(res.body, options.signal)) {
        const event = value as WatchEvent<T>;
        if (!event || typeof event !== 'object' || typeof event.type !== 'string') {
          throw new SyntaxError(`watch line is not an event: ${JSON.stringify(value).slice(0, 200)}`);
        }
        yield event;
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      throw err;
    } finally {
      res.close();
    }
  }

  /** Job logs as text chunks; with `follow` it runs until the job ends or `signal` aborts. */
  async *logs(namespace: string, name: string, options: LogsOptions = {}): AsyncGenerator<string> {
    const query = new URLSearchParams();
    if (options.follow) query.set('follow', 'true');
    if (options.tail !== undefined) query.set('tail', String(options.tail));
    if (options.cluster) query.set('cluster', options.cluster);
    if (options.task) query.set('task', options.task);
    const path = `/${encodeURIComponent(namespace)}/jobs/${encodeURIComponent(name)}/logs`;
    const res = await this.stream(withQuery(path, query), options.signal);
    try {
      for await (const line of readLines(res.body, options.signal)) yield line + '\n';
    } catch (err) {
      if (options.signal?.aborted) return;
      throw err;
    } finally {
      res.close();
    }
  }

  /** A JSON call to a non-resource route (the account routes: /login, /invites ...). */
  async call<T = unknown>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    return (await this.json(method, path, body, options.signal)) as T;
  }

  private path(kind: KindRef, namespace: string | undefined, name?: string, allNamespaces = false): string {
    const info = kindInfo(kind, namespace);
    const ns = info.namespaced && !allNamespaces ? (namespace ?? this.namespace) : undefined;
    return objectPath(info, ns, name);
  }

  private async json(method: string, path: string, body: unknown, signal?: AbortSignal, contentType = 'application/json'): Promise<unknown> {
    const headers = this.headers();
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = contentType;
    }
    let res: BufferedResponse;
    try {
      res = await this.transport.request({ method, path, headers, body: payload, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new UnreachableError(this.server, err);
    }
    for (const w of res.warnings ?? []) this.onWarning?.(w);
    if (res.status < 200 || res.status > 299) throw errorOf(res.status, res.statusText, res.text);
    return res.text.length === 0 ? undefined : (JSON.parse(res.text) as unknown);
  }

  /** A streaming GET; an HTTP error status is thrown as ApiError before anything is streamed. */
  private async stream(path: string, signal: AbortSignal | undefined): Promise<StreamResponse> {
    let res: StreamResponse;
    try {
      res = await this.transport.stream({ method: 'GET', path, headers: this.headers(), signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new UnreachableError(this.server, err);
    }
    if (res.status >= 200 && res.status <= 299) return res;
    let text = '';
    try {
      text = await readText(res.body);
    } catch {
      // The status alone still says what went wrong.
    } finally {
      res.close();
    }
    throw errorOf(res.status, res.statusText, text);
  }

  private headers(): Headers {
    const headers: Headers = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return headers;
  }
}

/** The server's Status body as an ApiError; a non-JSON body (a proxy's error page) becomes its message. */
function errorOf(status: number, statusText: string, text: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { message: text || `HTTP ${status} ${statusText}` };
  }
  return ApiError.fromStatus(parsed, status);
}

function withQuery(path: string, query: URLSearchParams): string {
  const q = query.toString();
  return q ? `${path}?${q}` : path;
}

function metaNamespace(object: unknown): string | undefined {
  const meta = (object as { metadata?: { namespace?: unknown } } | null)?.metadata;
  return typeof meta?.namespace === 'string' ? meta.namespace : undefined;
}
