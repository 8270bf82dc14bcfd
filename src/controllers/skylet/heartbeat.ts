/**
 * A skylet's heartbeat: manager.status() every heartbeatSeconds; READY on
 * success, ERROR after `errorThreshold` consecutive failures (at once for a
 * manager that cannot even be built). The status is written only when it
 * changed, when a replica was first seen started since the last write (the
 * scheduler frees the room it held for it on a heartbeat taken after that),
 * or every keepalive period. After evictionGraceSeconds of ERROR the
 * unfinished replicas placed here are EVICTED so the scheduler moves them.
 */
import { unfinishedPlacements, type ClusterStatus } from '../../api/index.js';
import type { ClusterManager } from '../../managers/index.js';
import { errText, evictReplicas } from '../runtime/index.js';
import { writeHeartbeat } from './parts.js';
import type { SkyletState } from './state.js';

export class Heartbeat {
  private failures = 0;
  private errorSince: number | undefined;
  private lastWriteAt = 0;
  /** Snapshot time of the last heartbeat written. */
  private lastWrittenTakenAt = Number.NEGATIVE_INFINITY;
  private lastFingerprint = '';

  constructor(private readonly s: SkyletState) {
    // A cluster found in ERROR at startup has been failing for at least as long as we know of.
    if (s.phase === 'ERROR') this.errorSince = s.deps.clock.now();
  }

  async beat(signal: AbortSignal): Promise<void> {
    const { s } = this;
    if (!s.mayReport) return;
    const observedAt = s.deps.clock.now();
    let state: Awaited<ReturnType<ClusterManager['status']>> | undefined;
    let problem = s.buildError;
    if (s.manager && problem === undefined) {
      try {
        state = await s.manager.status(signal);
        if (state.phase !== 'READY') problem = state.message ?? 'cluster manager reports ERROR';
      } catch (err) {
        if (signal.aborted) return;
        problem = errText(err);
      }
    }
    const before = s.phase;
    if (problem === undefined) {
      this.failures = 0;
      s.phase = 'READY';
      this.errorSince = undefined;
    } else {
      this.failures++;
      // Below the threshold a failure changes nothing: one slow answer is not a dead cluster.
      if (s.buildError === undefined && this.failures < s.deps.options.errorThreshold) return;
      if (s.phase !== 'ERROR') this.errorSince = observedAt;
      s.phase = 'ERROR';
    }
    const current = s.deps.clusters.get(s.name);
    if (!current) return;
    const message = problem ?? state?.message;
    const status: Partial<ClusterStatus> = {
      phase: s.phase,
      ...(message !== undefined ? { message } : {}),
      capacity: state?.capacity ?? current.status?.capacity ?? {},
      allocatable: state?.allocatable ?? current.status?.allocatable ?? {},
    };
    // Kept from the last answer while the manager is unreachable: the runtime does not change because Slurm is down.
    const runtime = state?.runtime ?? current.status?.runtime;
    if (runtime !== undefined) status.runtime = runtime;
    const fingerprint = JSON.stringify(status);
    // Replicas first seen started after the last written snapshot wait for this one to free their reservations.
    const startsWaiting = s.newestStartSeenAt !== undefined && s.newestStartSeenAt >= this.lastWrittenTakenAt && s.newestStartSeenAt < observedAt;
    const stale = observedAt - this.lastWriteAt >= s.deps.options.statusKeepaliveSeconds * 1000;
    if (fingerprint === this.lastFingerprint && !startsWaiting && !stale && current.status?.phase === s.phase) return;
    const out = await writeHeartbeat(s.deps.client, current, status, s.phase === 'READY', message, new Date(observedAt).toISOString(), signal);
    this.lastWriteAt = observedAt;
    this.lastWrittenTakenAt = observedAt;
    this.lastFingerprint = fingerprint;
    if (out && before !== s.phase) {
      if (s.phase === 'READY') s.deps.events.record(out, 'ClusterReady', `cluster '${s.name}' is READY`, { source: s.source });
      else s.deps.events.record(out, 'ClusterError', `cluster '${s.name}' is ERROR: ${message ?? ''}`, { source: s.source });
      s.deps.logger.info({ cluster: s.name, phase: s.phase, message }, 'cluster phase changed');
    }
  }

  async evictIfDead(signal: AbortSignal): Promise<void> {
    if (this.errorSince === undefined || !this.s.mayReport) return;
    const grace = this.s.deps.options.evictionGraceSeconds;
    if (this.s.deps.clock.now() - this.errorSince < grace * 1000) return;
    await evictAll(this.s, `cluster '${this.s.name}' has been ERROR for more than ${grace} s`, signal);
  }
}

/** Every unfinished replica placed on the skylet's cluster is EVICTED (and so placed again elsewhere by the scheduler). */
export async function evictAll(s: SkyletState, message: string, signal: AbortSignal): Promise<void> {
  for (const job of s.deps.jobs.list()) {
    if (job.status?.phase !== 'ACTIVE') continue;
    const ranks = unfinishedPlacements(job)[s.name];
    if (!ranks || ranks.length === 0) continue;
    await evictReplicas(s.deps, job, s.name, ranks, `replicas ${ranks.join(',')} evicted: ${message}`, s.source, signal);
  }
}
