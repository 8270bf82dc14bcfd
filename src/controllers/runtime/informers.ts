/**
 * The shared informers of the controller manager: clusters, jobs and filter
 * policies across all namespaces. Every controller reads the same caches;
 * jobs are also indexed by uid for the skylets' task sweeps.
 */
import { Informer, type SkyShiftClient } from '../client/index.js';
import type { ClusterObj, FilterPolicyObj, JobObj, Logger } from './types.js';

export class SharedInformers {
  readonly clusters: Informer<ClusterObj>;
  readonly jobs: Informer<JobObj>;
  readonly policies: Informer<FilterPolicyObj>;
  private readonly byUid = new Map<string, JobObj>();

  constructor(client: SkyShiftClient, logger: Logger) {
    const onError = (kind: string) => (err: unknown, retryInMs: number) =>
      logger.warn({ kind, err: err instanceof Error ? err.message : String(err), retryInMs }, 'watch failed; retrying');
    this.clusters = new Informer<ClusterObj>(client, 'clusters', { onError: onError('clusters') });
    this.jobs = new Informer<JobObj>(client, 'jobs', { onError: onError('jobs') });
    this.policies = new Informer<FilterPolicyObj>(client, 'filterpolicies', { onError: onError('filterpolicies') });
    this.jobs
      .onAdd((j) => this.index(j))
      .onUpdate((_, j) => this.index(j))
      .onDelete((j) => {
        if (j.metadata.uid && this.byUid.get(j.metadata.uid)?.metadata.name === j.metadata.name) this.byUid.delete(j.metadata.uid);
      });
  }

  jobByUid(uid: string): JobObj | undefined {
    return this.byUid.get(uid);
  }

  get synced(): boolean {
    return this.clusters.isSynced && this.jobs.isSynced && this.policies.isSynced;
  }

  /** Runs every informer until `signal` aborts; `whenSynced` resolves after the first full list of each. */
  run(signal: AbortSignal): { done: Promise<void>; whenSynced: Promise<void> } {
    const done = Promise.all([this.clusters.run(signal), this.jobs.run(signal), this.policies.run(signal)]).then(() => undefined);
    const synced = Promise.all([this.clusters.hasSynced(), this.jobs.hasSynced(), this.policies.hasSynced()]).then(() => undefined);
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return { done, whenSynced: Promise.race([synced, aborted]) };
  }

  private index(j: JobObj): void {
    if (j.metadata.uid) this.byUid.set(j.metadata.uid, j);
  }
}
