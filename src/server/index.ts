/**
 * Public face of src/server: the SkyShift API server (DESIGN section 4).
 */
export { createApiServer, type ApiServer, type ApiServerOptions } from './app.js';
export type { LogOptions, LogsProvider } from './context.js';
export { createAuth, type Auth, type AuthOptions } from './auth/index.js';
