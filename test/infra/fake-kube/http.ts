/**
 * The HTTP face of the FAKE Kubernetes API server: bearer-token check, request counting by `<verb> <resource>`,
 * discovery, the /fake/* control routes for tests, and the dispatch of API paths to the verbs in api.ts (watch, logs,
 * tables). Every error a client can cause is answered as a Kubernetes Status, never a 500.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { DeleteOptions, FakeApi } from './api.js';
import { discovery } from './discovery.js';
import { openapiV3 } from './openapi.js';
import type { FakeKubelet } from './kubelet.js';
import { serveLogs } from './logs.js';
import { apiVersionOf, parseApiPath, resourceByName, type ResourceInfo } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { badRequest, failure, methodNotAllowed, resourceNotFound, StatusError, success, unauthorized, type Status } from './status.js';
import { decodeProtobufBody } from './protobuf.js';
import { checkStrict } from './strict.js';
import { wantsTable, toTable } from './table.js';
import { isRecord, type KubeObject } from './types.js';
import { serveWatch } from './watch.js';
import { handleStreamRequest, type StreamDeps } from './streams/index.js';

const MAX_BODY = 3 * 1024 * 1024;

export interface HttpDeps {
  api: FakeApi;
  kubelet: FakeKubelet;
  token?: string;
  bookmarkIntervalMs: number;
  counts: Map<string, number>;
  streams: StreamDeps;
  serverAddress: () => string;
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' }).end(JSON.stringify(body));
}

const sendStatus = (res: ServerResponse, s: Status) => sendJson(res, s.code, s);

export function authorized(req: IncomingMessage, token: string | undefined): boolean {
  return !token || req.headers.authorization === `Bearer ${token}`;
}

/** The body, up to MAX_BODY; beyond it 413 (the rest is drained, and the connection cut if it goes on much longer). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
      else if (size - c.length <= MAX_BODY) reject(failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      else if (size > 16 * MAX_BODY) req.destroy();
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(buf: Buffer, contentType: string, optional = false): unknown {
  if (contentType.includes('cbor'))
    throw failure(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  if (contentType.includes('protobuf')) return buf.length === 0 && optional ? undefined : decodeProtobufBody(buf);
  const text = buf.toString('utf8');
  if (!text.trim()) {
    if (optional) return undefined;
    throw badRequest('the body of the request was empty');
  }
  try {
    return contentType.includes('yaml') ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** An integer query parameter within [min, max], undefined when absent; 400 otherwise. */
function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d{1,12}$/.test(v) || Number(v) < min || Number(v) > max) throw badRequest(`invalid value for ${name}: "${v}"`);
  return Number(v);
}

const boolParam = (q: URLSearchParams, name: string) => ['true', '1'].includes(q.get(name) ?? '');

function verbOf(method: string, p: { name?: string; subresource?: string; watchPrefix: boolean }, q: URLSearchParams): string {
  if (p.subresource === 'log') return 'log';
  switch (method) {
    case 'GET':
      return p.name && !p.watchPrefix ? 'get' : p.watchPrefix || boolParam(q, 'watch') ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return p.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

export function createHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      if (err instanceof StatusError) return sendStatus(res, err.status);
      console.error('fake-kube: internal error', err);
      sendStatus(res, failure(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`).status);
    });
  };
}

async function handle(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://fake-kube');
  } catch {
    throw badRequest('malformed request URL');
  }
  const method = req.method ?? 'GET';
  if (url.pathname.startsWith('/fake/')) return fakeRoute(deps, method, url.pathname, res);
  if (!authorized(req, deps.token)) throw unauthorized();
  if (handleStreamRequest(req, res, deps.streams)) return;
  if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  const doc = method !== 'GET' ? undefined : url.pathname.startsWith('/openapi/v3') ? openapiV3(url.pathname) : discovery(url.pathname, deps.serverAddress());
  if (doc !== undefined) {
    // Non-resource requests count too (`get /version`): a client's idle cost includes its probes.
    deps.counts.set(`get ${url.pathname}`, (deps.counts.get(`get ${url.pathname}`) ?? 0) + 1);
    return sendJson(res, 200, doc);
  }
  const p = parseApiPath(url.pathname);
  if (!p) throw resourceNotFound();
  const q = url.searchParams;
  const verb = verbOf(method, p, q);
  const r = p.resource;
  const sub = p.subresource && p.subresource !== 'log' ? `/${p.subresource}` : '';
  deps.counts.set(`${verb} ${r.name}${sub}`, (deps.counts.get(`${verb} ${r.name}${sub}`) ?? 0) + 1);
  const ns = r.namespaced ? p.namespace : undefined;
  const name = p.name;
  const contentType = req.headers['content-type'] ?? 'application/json';
  const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? await readBody(req) : Buffer.alloc(0);
  const table = wantsTable(req.headers.accept);
  const one = (code: number, obj: KubeObject) =>
    sendJson(res, code, table && r && method === 'GET' ? toTable(r, [obj], String(deps.api.store.resourceVersion)) : obj);

  switch (verb) {
    case 'log':
      if (method !== 'GET') throw methodNotAllowed();
      return serveLogs(
        deps.api.store,
        deps.kubelet,
        {
          namespace: ns ?? '',
          name: name!,
          container: q.get('container') || undefined,
          follow: boolParam(q, 'follow'),
          previous: boolParam(q, 'previous'),
          tailLines: intParam(q, 'tailLines', 0, 1e9),
          limitBytes: intParam(q, 'limitBytes', 1, 1e12),
        },
        res,
      );
    case 'get':
      if (p.subresource === 'scale') return sendJson(res, 200, deps.api.getScale(r, ns, name!));
      if (p.subresource && p.subresource !== 'status') throw methodNotAllowed();
      return one(200, deps.api.get(r, ns, name!));
    case 'list':
    case 'watch':
    case 'deletecollection': {
      const labels = parseLabelSelector(q.get('labelSelector'));
      const fieldSel = q.get('fieldSelector') ?? (p.watchPrefix && name ? `metadata.name=${name}` : undefined);
      const fields = parseFieldSelector(fieldSel ?? (name ? `metadata.name=${name}` : undefined), r.name);
      if (verb === 'watch')
        return serveWatch(
          deps.api,
          {
            resource: r,
            namespace: ns,
            labels,
            fields,
            resourceVersion: q.get('resourceVersion') ?? undefined,
            allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
            sendInitialEvents: boolParam(q, 'sendInitialEvents'),
            timeoutSeconds: intParam(q, 'timeoutSeconds', 0, 86_400),
            bookmarkIntervalMs: deps.bookmarkIntervalMs,
            table,
          },
          res,
        );
      if (verb === 'deletecollection') {
        const items = deps.api.deleteCollection(r, ns, labels, fields, deleteOptions(q, parseBody(body, contentType, true)));
        return sendJson(res, 200, listOf(r, items.map(stripKind), String(deps.api.store.resourceVersion)));
      }
      return list(deps, r, ns, q, labels, fields, table, res);
    }
    case 'create': {
      if (p.subresource === 'eviction') {
        deps.api.delete(r, ns, name!, deleteOptions(q, undefined));
        return sendJson(res, 201, success());
      }
      if (p.subresource === 'binding') return bind(deps, ns!, name!, parseBody(body, contentType), res);
      if (name || p.subresource) throw methodNotAllowed();
      const obj = parseBody(body, contentType);
      checkStrict(r, obj, q.get('fieldValidation'));
      return one(201, deps.api.create(r, ns, obj));
    }
    case 'update': {
      if (!name) throw methodNotAllowed();
      const obj = parseBody(body, contentType);
      if (!p.subresource) checkStrict(r, obj, q.get('fieldValidation'));
      return sendJson(res, 200, deps.api.update(r, ns, name, obj, p.subresource));
    }
    case 'patch': {
      if (!name) throw methodNotAllowed();
      const patch = parseBody(body, contentType);
      if (!p.subresource && !contentType.startsWith('application/json-patch')) checkStrict(r, patch, q.get('fieldValidation'));
      return sendJson(res, 200, deps.api.patch(r, ns, name, contentType, patch, p.subresource));
    }
    case 'delete': {
      if (p.subresource) throw methodNotAllowed();
      const out = deps.api.delete(r, ns, name!, deleteOptions(q, parseBody(body, contentType, true)));
      return sendJson(res, out.code, out.body);
    }
    default:
      throw methodNotAllowed();
  }
}

function list(
  deps: HttpDeps,
  r: ResourceInfo,
  ns: string | undefined,
  q: URLSearchParams,
  labels: ReturnType<typeof parseLabelSelector>,
  fields: ReturnType<typeof parseFieldSelector>,
  table: boolean,
  res: ServerResponse,
): void {
  const { items, resourceVersion } = deps.api.list(r, ns, labels, fields);
  const limit = intParam(q, 'limit', 0, 1e9) || undefined;
  const cont = q.get('continue');
  let start = 0;
  if (cont) {
    const n = Number(Buffer.from(cont, 'base64url').toString('utf8'));
    if (!Number.isInteger(n) || n < 0) throw failure(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.');
    start = n;
  }
  const page = items.slice(start, limit ? start + limit : undefined);
  const next = limit && start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined;
  if (table) return sendJson(res, 200, toTable(r, page, resourceVersion, next));
  const body = listOf(r, page.map(stripKind), resourceVersion);
  if (next) Object.assign(body.metadata, { continue: next, remainingItemCount: items.length - start - page.length });
  sendJson(res, 200, body);
}

/** List items carry no kind/apiVersion, as the real server's lists. */
function stripKind(o: KubeObject): KubeObject {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest as KubeObject;
}

const listOf = (r: ResourceInfo, items: KubeObject[], resourceVersion: string) => ({
  kind: `${r.kind}List`,
  apiVersion: apiVersionOf(r),
  metadata: { resourceVersion } as Record<string, unknown>,
  items,
});

function deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
  const b = isRecord(body) ? body : {};
  const grace = intParam(q, 'gracePeriodSeconds', -1, 1e9) ?? (typeof b.gracePeriodSeconds === 'number' ? b.gracePeriodSeconds : undefined);
  const pre = isRecord(b.preconditions) ? b.preconditions : {};
  return {
    ...(grace !== undefined && grace >= 0 ? { gracePeriodSeconds: Math.floor(grace) } : {}),
    preconditions: {
      ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
      ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
    },
    propagationPolicy: q.get('propagationPolicy') ?? (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : undefined),
  };
}

function bind(deps: HttpDeps, ns: string, name: string, body: unknown, res: ServerResponse): void {
  const target = isRecord(body) && isRecord(body.target) && typeof body.target.name === 'string' ? body.target.name : undefined;
  if (!target) throw badRequest('binding target name is required');
  const pod = deps.api.get(resourceByName('pods'), ns, name);
  const spec = pod.spec as { nodeName?: string };
  if (spec.nodeName)
    throw failure(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${spec.nodeName}"`);
  deps.api.store.write('pods', { ...pod, spec: { ...spec, nodeName: target } });
  sendJson(res, 201, success());
}

function fakeRoute(deps: HttpDeps, method: string, pathname: string, res: ServerResponse): void {
  if (method === 'GET' && pathname === '/fake/requests') return sendJson(res, 200, Object.fromEntries(deps.counts));
  if (method === 'POST' && pathname === '/fake/requests/reset') {
    deps.counts.clear();
    return sendJson(res, 200, {});
  }
  const m = /^\/fake\/evict\/([-a-z0-9.]+)\/([-a-z0-9.]+)$/.exec(pathname);
  if (method === 'POST' && m) {
    if (!deps.kubelet.evict(m[1]!, m[2]!)) throw failure(404, 'NotFound', `pods "${m[2]}" not found`);
    return sendJson(res, 200, success());
  }
  throw resourceNotFound();
}
