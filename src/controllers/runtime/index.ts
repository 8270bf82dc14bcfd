/** Public face of the controller runtime: shared informers, work queue, leader election, status writes, events. */
export { SharedInformers } from './informers.js';
export { WorkQueue } from './workqueue.js';
export type { WorkQueueOptions, Handler, HandlerResult } from './workqueue.js';
export { LeaderElector } from './leader.js';
export type { LeaseApi, LeaderElectionOptions } from './leader.js';
export { clientLeaseApi } from './lease-api.js';
export { EventRecorder, errText } from './events.js';
export type { EventReason } from './events.js';
export { controllerRegistry, leaderGauge, observeDecision, pendingGauge, statusWrites } from './metrics.js';
export { mutateStatus, isConflict, isNotFound } from './status-writer.js';
export type { MutateOptions } from './status-writer.js';
export { evictReplicas } from './evict.js';
export { WritePipeline } from './write-pipeline.js';
export { Trigger } from './trigger.js';
export { isMarked, markFailed, safeErrorText } from './poison.js';
export type { PoisonReason } from './poison.js';
export { jobProblem, statusProblemOf, DEFAULT_JOB_LIMITS } from './sanity.js';
export type { JobLimits } from './sanity.js';
