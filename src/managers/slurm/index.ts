/** The `slurm` manager: a real Slurm through its commands (locally or over SSH) or slurmrestd (JWT). */
export { SlurmManager, type SlurmManagerConfig } from './manager.js';
export type { Runtime as SlurmRuntime } from './script.js';
export { slurmManager } from './registration.js';
