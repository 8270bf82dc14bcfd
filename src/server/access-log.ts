/**
 * One access-log line per answered request (`--access-log`): method, route
 * template (never the raw URL, which may carry query values), status,
 * duration in ms and the authenticated user. Never bodies or tokens.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface AccessLogger {
  info(obj: object, msg?: string): void;
}

export function accessLogEntry(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  const principal = (request as { skyPrincipal?: { user?: string } | null }).skyPrincipal;
  return {
    method: request.method,
    route: request.skyRoute || 'unmatched',
    status: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 100) / 100,
    ...(principal?.user ? { user: principal.user } : {}),
  };
}

export function logAccess(logger: AccessLogger, request: FastifyRequest, reply: FastifyReply): void {
  logger.info(accessLogEntry(request, reply), 'request');
}
