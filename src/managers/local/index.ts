/** The `local` manager: replicas as processes (or podman containers) on this host. */
export { LocalManager, type LocalManagerConfig } from './manager.js';
export { DirLockedError, lockDirectory, lockHolder, type LockHolder } from './dir-lock.js';
export { localManager } from './registration.js';
