/**
 * What the parts of one skylet (heartbeat, flow, sync) share: the cluster's
 * manager, its phase, the last task list and what this process submitted.
 * Memory of this skylet only; nothing here is shared with the scheduler.
 */
import type { Cluster, Job } from '../../api/index.js';
import type { Informer } from '../../client/index.js';
import type { Limiter, TimerHandle } from '../../lib/index.js';
import type { ClusterManager, JobTasks } from '../../managers/index.js';
import type { ControllerContext } from '../controller.js';
import { Trigger } from '../runtime/index.js';
import { FOLLOW_MIN_MS } from './parts.js';

export interface SkyletDeps extends ControllerContext {
  jobs: Informer<Job>;
  clusters: Informer<Cluster>;
  jobByUid: (uid: string) => Job | undefined;
  /** Job-sync status writes in flight across all skylets (see lifecycle.ts). */
  syncSlots: Limiter;
}

export type SkyletPhase = 'INIT' | 'READY' | 'ERROR';

export class SkyletState {
  phase: SkyletPhase;
  /** Set by the first job sync: until then we do not know what the manager already runs. */
  synced = false;
  /** job uid -> the manager's tasks of it, from the last sync. */
  lastTasks = new Map<string, JobTasks>();
  /** uid#rank -> when this process last submitted it; a rank still not started after RESUBMIT_MS is submitted again. */
  readonly submitted = new Map<string, number>();
  /**
   * Snapshot time of the newest task list that first showed some replica started. The scheduler frees the
   * room it held for such a replica only on a heartbeat taken after it, so one is written even when unchanged.
   */
  newestStartSeenAt: number | undefined;
  /** Wakes the heartbeat loop. */
  readonly heartbeatTrigger = new Trigger();
  /** Wakes the job sync loop (after a submit, so new tasks show up at once rather than at the next heartbeat). */
  readonly syncTrigger = new Trigger();
  private followDelay = FOLLOW_MIN_MS;
  private followTimer: TimerHandle | undefined;

  constructor(
    readonly name: string,
    readonly manager: ClusterManager | undefined,
    /** Why the manager could not be built (bad config): the cluster is ERROR at once. */
    readonly buildError: string | undefined,
    readonly deps: SkyletDeps,
    initialPhase: string | undefined,
  ) {
    this.phase = initialPhase === 'READY' || initialPhase === 'ERROR' ? initialPhase : 'INIT';
  }

  /** False while the report gate is closed (options.reportGate): no status write, no submit. */
  get mayReport(): boolean {
    return this.deps.options.reportGate?.() ?? true;
  }

  get source(): string {
    return `skylet/${this.name}`;
  }

  forgetSubmitted(uid: string, ranks?: readonly number[]): void {
    for (const k of [...this.submitted.keys()]) {
      if (!k.startsWith(`${uid}#`)) continue;
      if (ranks === undefined || ranks.includes(Number(k.slice(uid.length + 1)))) this.submitted.delete(k);
    }
  }

  /** Poll the manager again soon (50 ms, doubling up to a heartbeat) while replicas we submitted have not started. */
  followUp(): void {
    if (this.followTimer) return;
    const delay = this.followDelay;
    this.followDelay = Math.min(this.followDelay * 2, this.deps.options.heartbeatSeconds * 1000);
    this.followTimer = this.deps.clock.setTimeout(() => {
      this.followTimer = undefined;
      this.syncTrigger.kick();
    }, delay);
  }

  /**
   * A submit just went out: follow-ups start short again. A timer armed for an earlier submit may be up to a
   * heartbeat away: it is re-armed short, or this replica would wait for it (the local create-to-RUNNING p99
   * was one heartbeat for exactly that reason).
   */
  resetFollowUp(): void {
    this.followDelay = FOLLOW_MIN_MS;
    this.stopFollowUp();
  }

  /** Nothing waits to start any more. */
  followUpDone(): void {
    this.followDelay = FOLLOW_MIN_MS;
  }

  stopFollowUp(): void {
    if (this.followTimer) this.deps.clock.clearTimeout(this.followTimer);
    this.followTimer = undefined;
  }
}
