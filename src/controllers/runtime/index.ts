/** Public face of the controller runtime: time source, work queue, backoff, leader election. */
export { systemClock, sleep } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { FakeClock } from './fake-clock.js';
export { KeyedBackoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { WorkQueue } from './workqueue.js';
export type { WorkQueueOptions, Handler, HandlerResult } from './workqueue.js';
export { LeaderElector } from './leader.js';
export type { Lease, LeaseSpec, LeaseApi, LeaderElectionOptions } from './leader.js';
export { forEachLimit } from './limit.js';
