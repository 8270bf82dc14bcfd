/**
 * Public face of src/api: kinds, their schemas (TypeBox: type = validator =
 * OpenAPI), units, label selectors, names, errors, limits and the task
 * vocabulary. Depends on nothing of ours.
 */
export * from './errors.js';
export * from './object.js';
export * from './selector.js';
export * from './kinds.js';
export * from './kinds/index.js';
export * from './units.js';
export * from './names.js';
export * from './labels.js';
export * from './openapi.js';
export type { Condition } from './schema.js';
export * from './tasks.js';
export * from './job-rules.js';
