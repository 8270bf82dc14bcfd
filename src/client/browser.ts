/**
 * Public face of src/client for the browser (the dashboard): the same client,
 * watch reader and informer as index.ts, over fetch. Nothing reachable from
 * here imports Node, so a bundle of it carries no node:http.
 */
export * from './public.js';
export { SkyShiftClient, type BrowserClientOptions } from './browser-client.js';
