/**
 * Small async building blocks every part may use (it depends on nothing of
 * ours): the one clock and abortable sleep, the one backoff, the one
 * concurrency limiter. Browser-safe: nothing here imports Node. SkyShift's
 * version (read from package.json, so Node only) is its own entry point,
 * `lib/version.ts`, imported by the processes that print it.
 */
export { systemClock, sleep, type Clock, type TimerHandle } from './clock.js';
export { backoffDelay, KeyedBackoff, type BackoffOptions } from './backoff.js';
export { createLimiter, forEachLimit, type Limiter } from './limit.js';
