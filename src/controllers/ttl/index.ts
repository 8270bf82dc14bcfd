export { createTtlController, finishedAt, DEFAULT_EVENT_TTL_SECONDS } from './controller.js';
