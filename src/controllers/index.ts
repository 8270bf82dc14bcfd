/** Public face of src/controllers: the controller manager and its parts. */
export { runControllers, runLeaderTerm, LEASE_NAME } from './manager.js';
export type { RunControllersParams } from './manager.js';
export { DEFAULT_OPTIONS, silentLogger } from './types.js';
export type { ControllerOptions, Logger } from './types.js';
export { EventRecorder } from './events.js';
export { SharedInformers } from './informers.js';
export { SchedulerController, needsScheduling, toSchedJob } from './scheduler-controller.js';
export { ClusterController, Skylet } from './skylet/index.js';
export { clientLeaseApi } from './lease-api.js';
export * as jobStatus from './job-status.js';
export { controllerRegistry } from './metrics.js';
