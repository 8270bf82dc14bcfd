/**
 * The API server: a Fastify app with operational routes and one catch-all that
 * the Router maps onto the generic resource handlers.
 */
import { setMaxListeners } from 'node:events';
import type { Registry } from 'prom-client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import pino, { type Logger } from 'pino';
import { ApiError, badRequest, KINDS, storageKey, type KindInfo } from '../api/index.js';
import { setLimits, type Limits } from '../api/limits.js';
import { BODY_LIMIT, registerBodyParsers } from './body.js';
import { clientErrorHandler } from './client-errors.js';
import type { LogsProvider, ServerContext, StreamsProvider } from './context.js';
import { isServerFault, toApiError } from './errors.js';
import { prepareLogs } from './logs.js';
import { createMetrics } from './metrics.js';
import { ensureDefaultNamespace } from './namespaces.js';
import { createOperations } from './operations.js';
import { createObject, deleteObject, getObject, isDryRun, listObjects, patchObject, refuseDryRun, replaceObject, type Query, type Reply } from './resources.js';
import { agentVisibility, type AccountRoutes, type Auth } from './auth/index.js';
import { Router, type Resolved, type Target } from './router.js';
import type { Store } from './store.js';
import { isWatch, prepareWatch } from './watch.js';
import { KindCache } from './watch-cache.js';
import { beginWarnings, warningHeaderValues } from './warnings.js';
import { logAccess } from './access-log.js';
import { streamRoute, Upgrades } from './streams/index.js';
import { AGENT_TUNNEL_ROUTE, agentTunnelRoute, type AgentTunnels } from './agent-tunnel.js';

export interface ApiServerOptions {
  store: Store;
  logger?: Logger;
  version?: string;
  /** Kinds to serve; defaults to every registered kind. */
  kinds?: readonly KindInfo[];
  logs?: LogsProvider;
  /** Exec and port-forward into jobs' tasks (WebSocket routes); absent: those routes answer 503. */
  streams?: StreamsProvider;
  /** BOOKMARK interval for idle watches (default 30 s). */
  bookmarkIntervalMs?: number;
  /** Events kept per kind for resuming watches (default 20,000). */
  watchHistory?: number;
  /** Unsent bytes allowed per watcher before it is closed (default 4 MiB). */
  watchBufferBytes?: number;
  /** Default watch length in ms without timeoutSeconds (default random 30–60 min, spreading reconnects). */
  watchTimeoutMs?: number;
  /** How long reads wait for the cache to catch up (default 5 s). */
  readTimeoutMs?: number;
  now?: () => Date;
  /** Users, roles and tokens (src/server/auth). Absent: no authentication at all — only for tests and `--no-auth`. */
  auth?: Auth;
  /** Serve HTTPS with this PEM key and certificate. */
  https?: { key: string | Buffer; cert: string | Buffer };
  /** Size limits (DESIGN section 17), e.g. `{maxReplicas}`; the rest keep their defaults. Process-wide. */
  limits?: Partial<Limits>;
  /** Log one line per request (method, route, status, duration, user) at info. */
  accessLog?: boolean;
  /** Live agent tunnels (GET /agent/tunnel registers them; agent clusters' managers open streams on them). Absent: that route answers 503. */
  agentTunnels?: AgentTunnels;
  /** More registries /metrics shows with the server's own (`skyshift up`: the in-process controllers'). */
  metricsRegistries?: readonly Registry[];
}

export interface ApiServer {
  readonly app: FastifyInstance;
  /** Resolves with the URL once listening and the caches are synced. */
  start(options?: { host?: string; port?: number }): Promise<string>;
  /** Syncs the caches and creates `default` without listening (for inject() tests). */
  ready(): Promise<void>;
  /** Stops accepting, ends watches, stops the caches. Does not close the store (the caller owns it). */
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    skyRoute: string;
    /**
     * The path resolved once, before any other hook (or why it names nothing):
     * the gate, the role guard and the handler all act on this one value.
     */
    skyTarget: Resolved | ApiError | undefined;
    /** The role guard's precondition for a role PATCH (auth/role-guard.ts): the revision its check saw. */
    skyPinnedRevision: number | undefined;
  }
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  if (options.limits) setLimits(options.limits);
  const logger = options.logger ?? pino({ level: 'silent' });
  const version = options.version ?? '0.0.0';
  const kinds = options.kinds ?? KINDS;
  const metrics = createMetrics({ defaultMetrics: options.logger !== undefined });
  const store = metrics.instrument(options.store);
  const lifetime = new AbortController();
  // One listener per cache, store watch and log stream: many by design.
  setMaxListeners(0, lifetime.signal);
  const router = new Router(kinds);

  const caches = new Map<string, KindCache>();
  for (const kind of kinds) {
    caches.set(
      kind.plural,
      new KindCache(store, kind, storageKey(kind, undefined), {
        ringSize: options.watchHistory ?? 20_000,
        bookmarkIntervalMs: options.bookmarkIntervalMs ?? 30_000,
        onError: (err) => logger.warn({ err: errorSummary(err), kind: kind.plural }, 'watch cache lost its store watch; relisting'),
        onWatchers: (n) => metrics.setWatchers(kind.kind, n),
      }),
    );
  }

  const ctx: ServerContext = {
    store,
    kinds,
    router,
    caches,
    logs: options.logs,
    streams: options.streams,
    now: options.now ?? (() => new Date()),
    readTimeoutMs: options.readTimeoutMs ?? 5_000,
    watchTimeoutMs: () => options.watchTimeoutMs ?? (30 + Math.random() * 30) * 60_000,
    watchBufferBytes: options.watchBufferBytes ?? 4 * 1024 * 1024,
    signal: lifetime.signal,
    lastWrite: new Map(),
  };

  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request logs would dominate the hot path; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // A child logger per request costs ~2% of a create; requests share the server's logger.
    childLoggerFactory: (parent) => parent,
    frameworkErrors: (err, request, reply) => {
      request.skyRoute = 'unmatched';
      void sendStatus(reply, toApiError(err));
    },
    bodyLimit: BODY_LIMIT,
    // Paths are parsed by our Router; keep fastify from rewriting them.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1000 },
    return503OnClosing: true,
    forceCloseConnections: true,
    // Parser-level errors (bad request line, chunking, CL+TE, oversized headers) answer a Status too.
    clientErrorHandler,
    // Node would answer a missing Host with an empty 400; the hook below answers a Status instead.
    ...(options.https ? { https: { ...options.https, requireHostHeader: false } } : { http: { requireHostHeader: false } }),
  }) as unknown as FastifyInstance;
  app.decorateRequest('skyRoute', '');
  app.decorateRequest('skyTarget', undefined);
  app.decorateRequest('skyPinnedRevision', undefined);
  registerBodyParsers(app);
  // WebSocket upgrades enter the same pipeline (hooks, gate, catch-all) as plain requests.
  const upgrades = new Upgrades(app.server, (req, res) => app.routing(req, res), lifetime.signal);
  // First of all hooks: every later decision reads this one resolution, never the raw path.
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      request.skyTarget = router.resolve(request.raw.url ?? request.url);
    } catch (err) {
      // Answered by the handler, after the gate: an anonymous client learns nothing about paths.
      request.skyTarget = toApiError(err);
    }
    done();
  });
  // The gate goes next so it guards every route below, operational ones included.
  const accounts: AccountRoutes | undefined = options.auth?.install(app, ctx);
  const operation = createOperations({
    store,
    caches,
    version,
    backend: options.store.backend,
    registries: () => [metrics.registry, ...(options.auth ? [options.auth.registry] : []), ...(options.metricsRegistries ?? [])],
  });

  app.addHook('onRequest', (request, reply, done) => {
    // HTTP/1.1 requires Host (RFC 9112 3.2); HTTP/1.0 clients may omit it.
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      // Like Node's own check: answer, then close a connection that broke the protocol.
      reply.header('connection', 'close');
      done(badRequest('missing Host header'));
      return;
    }
    done();
  });

  // Callback style: an async hook costs a promise per request on the hot path.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.skyRoute || 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    if (options.accessLog) logAccess(logger, request, reply);
    done();
  });

  app.setErrorHandler((err, request, reply) => {
    const apiError = toApiError(err);
    if (isServerFault(apiError)) request.log.error({ err, route: request.skyRoute }, 'request failed');
    void sendStatus(reply, apiError);
  });
  app.setNotFoundHandler((request, reply) => {
    void sendStatus(reply, new ApiError('NotFound', `no such path: ${request.url.split('?', 1)[0]}`));
  });

  // The only route: Fastify's own matching (which decodes paths its own way) never picks a handler.
  app.all('/*', async (request, reply) => {
    const warnings = beginWarnings();
    const resolved = request.skyTarget;
    if (resolved === undefined) throw new ApiError('InternalError', 'the request path was not resolved');
    if (resolved instanceof ApiError) throw resolved;
    request.skyRoute = resolved.route;
    if (resolved.type === 'operation') {
      if (resolved.route === AGENT_TUNNEL_ROUTE) return agentTunnelRoute(ctx, upgrades, options.agentTunnels, options.auth !== undefined, request, reply);
      return operation(resolved.route, request.method, reply);
    }
    if (resolved.type === 'account') {
      if (!accounts) throw new ApiError('NotFound', `no such path: ${resolved.route} (authentication is off)`);
      refuseDryRun(flatQuery(request.query), resolved.route);
      return accounts.account(resolved, request, reply);
    }
    if (resolved.type === 'agent-tokens') {
      if (!accounts) throw new ApiError('NotFound', `no such path: ${resolved.route} (authentication is off)`);
      refuseDryRun(flatQuery(request.query), resolved.route);
      return accounts.agentTokens(resolved.cluster, request, reply);
    }
    const target: Target = resolved;
    // A user's credentials and role memberships go with it, whichever spelling named it.
    if (accounts && request.method === 'DELETE' && target.type === 'object' && target.kind.plural === 'users' && !isDryRun(flatQuery(request.query))) {
      return accounts.deleteUser(target.name, request, reply);
    }
    const query = flatQuery(request.query);
    if (request.skyPinnedRevision !== undefined) query.resourceVersion ??= String(request.skyPinnedRevision);
    const contentType = request.headers['content-type'];

    if (request.method === 'GET' && (target.type === 'collection' || target.type === 'object') && isWatch(query)) {
      const stream = await prepareWatch(ctx, target, query, agentVisibility(request.skyPrincipal?.agentCluster, target.kind));
      return hijack(reply, (res, onClose) => stream(res, onClose));
    }
    if (target.type === 'exec' || target.type === 'portforward') return streamRoute(ctx, upgrades, target, request, reply);
    if (target.type === 'logs') {
      if (request.method !== 'GET') throw methodNotAllowed(request.method, target);
      const stream = await prepareLogs(ctx, target, query);
      return hijack(reply, (res, onClose) => void stream(res, onClose));
    }
    let result: Reply;
    switch (`${target.type} ${request.method}`) {
      case 'collection GET':
        result = await listObjects(ctx, target as Target & { type: 'collection' }, query, agentVisibility(request.skyPrincipal?.agentCluster, target.kind));
        break;
      case 'collection POST':
        result = await createObject(ctx, target as Target & { type: 'collection' }, request.body, contentType, query);
        break;
      case 'object GET':
      case 'status GET':
        result = await getObject(ctx, target as Target & { type: 'object' | 'status' });
        break;
      case 'object PUT':
      case 'status PUT':
        result = await replaceObject(ctx, target as Target & { type: 'object' | 'status' }, request.body, contentType, query);
        break;
      case 'object PATCH':
      case 'status PATCH':
        result = await patchObject(ctx, target as Target & { type: 'object' | 'status' }, request.body, contentType, query);
        break;
      case 'object DELETE':
        result = await deleteObject(ctx, target as Target & { type: 'object' }, query, request.body, contentType);
        break;
      default:
        throw methodNotAllowed(request.method, target);
    }
    if (warnings.length > 0) reply.header('warning', warningHeaderValues(warnings));
    return reply.code(result.code).type('application/json').send(result.body);
  });

  let started: Promise<void> | undefined;
  async function ready(): Promise<void> {
    started ??= (async () => {
      for (const cache of caches.values()) {
        cache.run(lifetime.signal).catch((err: unknown) => logger.error({ err: errorSummary(err) }, 'watch cache stopped'));
      }
      await ensureDefaultNamespace(ctx);
      for (const cache of caches.values()) {
        if (!(await cache.waitUntil(() => cache.synced, 30_000))) {
          throw new Error(`watch cache for ${cache.kind.plural} did not sync within 30 s`);
        }
      }
      await app.ready();
    })();
    return started;
  }

  return {
    app,
    ready,
    async start({ host = '127.0.0.1', port = 50051 } = {}) {
      await ready();
      return app.listen({ host, port });
    },
    async close() {
      lifetime.abort();
      await app.close();
    },
  };
}

async function sendStatus(reply: FastifyReply, err: ApiError): Promise<void> {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  await reply.code(err.code).type('application/json').send(JSON.stringify(err.toStatus()));
}

function hijack(reply: FastifyReply, stream: (res: FastifyReply['raw'], onClose: (fn: () => void) => void) => void): FastifyReply {
  reply.hijack();
  const res = reply.raw;
  // 'close' fires both when we end the stream and when the client goes away.
  stream(res, (fn) => res.once('close', fn));
  return reply;
}

function methodNotAllowed(method: string, target: Target): ApiError {
  return new ApiError('MethodNotAllowed', `${method} is not allowed on ${target.route}`);
}

function flatQuery(query: unknown): Query {
  const out: Query = {};
  if (typeof query !== 'object' || query === null) return out;
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value) && typeof value[0] === 'string') out[key] = value[0];
  }
  return out;
}

/** Logs must not carry object contents or credentials: name and message only. */
function errorSummary(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}

export type { Query };
