/**
 * Public face of src/server: the SkyShift API server (DESIGN section 4).
 */
export { createApiServer, type ApiServer, type ApiServerOptions } from './app.js';
export type { LogOptions, LogsProvider } from './context.js';
export { BODY_LIMIT } from './body.js';
export { createAuth, ADMIN_USER, CONTROLLER_USER, DEFAULT_ROLES, type Auth, type AuthOptions } from './auth/index.js';
