/** The scheduler controller (DESIGN 7) and its pure placement engine. */
export { SchedulerController, createScheduler } from './controller.js';
export { toSchedJob, toSchedPolicy } from './sched-job.js';
export * from './engine/index.js';
