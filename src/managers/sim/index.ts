/** The `sim` manager: an in-memory simulated cluster for scale tests and benchmarks. */
export { SimManager, type SimManagerConfig } from './manager.js';
export { simManager } from './registration.js';
