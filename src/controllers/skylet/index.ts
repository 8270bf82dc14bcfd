/** Skylets: one per cluster (heartbeat, flow, job sync), run by the cluster lifecycle controller. */
export { ClusterLifecycle, createSkylets } from './lifecycle.js';
export { Skylet } from './skylet.js';
export type { SkyletDeps } from './state.js';
export { DEFAULT_FLOW, cancelFailedStep, validateStep, submitStep, type FlowStep, type StepResult } from './flow.js';
