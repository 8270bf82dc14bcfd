/**
 * Errors that cross the API boundary. Every failure a client can see is an
 * ApiError with a stable `reason`; the server turns it into a Status body.
 */

export type Reason =
  | 'BadRequest'
  | 'Invalid'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'NotImplemented'
  | 'ServiceUnavailable';

export const REASON_CODES: Record<Reason, number> = {
  BadRequest: 400,
  Invalid: 422,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  InternalError: 500,
  // A cluster whose manager lacks an optional capability (exec, port-forward...).
  NotImplemented: 501,
  ServiceUnavailable: 503,
};

/** One problem with one field, e.g. {field: "spec.replicas", message: "must be >= 1"}. */
export interface Cause {
  field: string;
  message: string;
  reason?: string;
}

/** The wire shape of every error (Kubernetes' Status). */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  code: number;
  reason: Reason;
  message: string;
  details?: { name?: string; kind?: string; causes?: Cause[] };
}

export class ApiError extends Error {
  readonly reason: Reason;
  readonly code: number;
  readonly details: Status['details'];

  constructor(reason: Reason, message: string, details?: Status['details']) {
    super(message);
    this.name = 'ApiError';
    this.reason = reason;
    this.code = REASON_CODES[reason];
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: this.code,
      reason: this.reason,
      message: this.message,
    };
    if (this.details) status.details = this.details;
    return status;
  }

  /** Rebuild an ApiError from a Status body received over HTTP. */
  static fromStatus(body: unknown, httpCode: number): ApiError {
    const s = (body ?? {}) as Partial<Status>;
    const reason = (s.reason && s.reason in REASON_CODES ? s.reason : reasonForCode(httpCode)) as Reason;
    const err = new ApiError(reason, typeof s.message === 'string' ? s.message : `HTTP ${httpCode}`, s.details);
    return err;
  }
}

export function reasonForCode(code: number): Reason {
  const found = (Object.entries(REASON_CODES) as [Reason, number][]).find(([, c]) => c === code);
  if (found) return found[0];
  return code >= 500 ? 'InternalError' : 'BadRequest';
}

/** Shorthands used everywhere; messages always name the object. */
export const notFound = (what: string) => new ApiError('NotFound', `${what} not found`);
export const alreadyExists = (what: string) => new ApiError('AlreadyExists', `${what} already exists`);
export const conflict = (message: string) => new ApiError('Conflict', message);
export const badRequest = (message: string) => new ApiError('BadRequest', message);
/** Causes kept in an Invalid error: a body with 100,000 bad entries gets a short answer, not a long one. */
export const MAX_CAUSES = 50;
/** Field paths hold client keys; a long one is cut so errors and logs stay small. */
function clip(s: string, max = 256): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export const invalid = (what: string, causes: Cause[]) => {
  const kept = causes.slice(0, MAX_CAUSES).map((c) => ({ ...c, field: clip(c.field), message: clip(c.message, 1024) }));
  const more = causes.length > kept.length ? `; and ${causes.length - kept.length} more` : '';
  return new ApiError('Invalid', `${clip(what)} is invalid: ${kept.map((c) => `${c.field}: ${c.message}`).join('; ')}${more}`, {
    causes: kept,
  });
};
