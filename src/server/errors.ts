/**
 * Turns anything thrown while serving a request into an ApiError, so every
 * failure leaves the server as a Status body and nothing a client sends can
 * surface as a 500.
 */
import { ApiError, reasonForCode } from '../api/index.js';

/** Fastify's own error codes that describe client mistakes. */
const FASTIFY_CODES: Record<string, (err: Error) => ApiError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new ApiError('RequestEntityTooLarge', 'request body is larger than the limit of 1.5 MiB'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new ApiError(
      'UnsupportedMediaType',
      'unsupported content type: use application/json, application/yaml, application/merge-patch+json or application/json-patch+json',
    ),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new ApiError('BadRequest', 'request body does not match its Content-Length'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new ApiError('BadRequest', 'request body is empty'),
  FST_ERR_CTP_INVALID_TYPE: () => new ApiError('BadRequest', 'invalid Content-Type header'),
  FST_ERR_BAD_URL: () => new ApiError('BadRequest', 'malformed URL'),
};

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isStoreError(err)) {
    switch (err.code) {
      case 'NotFound':
        return new ApiError('NotFound', err.message);
      case 'AlreadyExists':
        return new ApiError('AlreadyExists', err.message);
      case 'Conflict':
        return new ApiError('Conflict', err.message);
      case 'Expired':
        return new ApiError('Expired', err.message);
      case 'Unavailable':
        return new ApiError('ServiceUnavailable', `store unavailable: ${err.message}`);
    }
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') {
      const make = FASTIFY_CODES[code];
      if (make) return make(err);
    }
    const statusCode = (err as { statusCode?: unknown }).statusCode;
    // Other fastify/client errors carry a 4xx statusCode and a safe message.
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return new ApiError(reasonForCode(statusCode), err.message);
    }
  }
  return new ApiError('InternalError', 'internal error');
}

/** True when the error is our fault and worth logging with a stack. */
export function isServerFault(err: ApiError): boolean {
  // 501: a manager without a capability (a clear answer, not our fault); 503: a dependency is down.
  return err.code >= 500 && err.reason !== 'ServiceUnavailable' && err.reason !== 'NotImplemented';
}

type StoreErrorLike = Error & { code: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'Unavailable' };

// Matched by name rather than instanceof so the server does not depend on which
// module instance (or backend) constructed the error.
function isStoreError(err: unknown): err is StoreErrorLike {
  return err instanceof Error && err.name === 'StoreError' && typeof (err as { code?: unknown }).code === 'string';
}
