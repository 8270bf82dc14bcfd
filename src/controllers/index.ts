/** Public face of src/controllers: the controller manager, the Controller contract and the controllers. */
export { runControllers, runLeaderTerm, selectControllers, leaseNameFor, CONTROLLERS, LEASE_NAME } from './controller-manager.js';
export type { RunControllersParams } from './controller-manager.js';
export type { Controller, ControllerContext, ControllerFactory } from './controller.js';
export { DEFAULT_OPTIONS, silentLogger } from './options.js';
export type { ControllerOptions, Logger } from './options.js';
export { EventRecorder, SharedInformers, clientLeaseApi, controllerRegistry } from './runtime/index.js';
export { SchedulerController, toSchedJob } from './scheduler/index.js';
export { ClusterLifecycle, Skylet, createSkylets } from './skylet/index.js';
export { AgentHealth, createAgentHealth, AGENT_HEARTBEAT_LABEL, DEFAULT_AGENT_STALE_HEARTBEATS } from './agent-health/index.js';
