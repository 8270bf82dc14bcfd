import type { Job } from '../api/index.js';
import { ManagerError } from './errors.js';
import type { JobRef } from './types.js';

/** The identity a submitted job's manager-side work carries; a job without a uid cannot be submitted idempotently. */
export function submittedJobRef(job: Pick<Job, 'metadata'>): JobRef {
  const { uid, namespace, name } = job.metadata;
  if (!uid) throw new ManagerError('BadRequest', `job '${namespace ?? ''}/${name}' has no uid; submit needs it to be idempotent`);
  return { uid, namespace: namespace ?? 'default', name };
}
