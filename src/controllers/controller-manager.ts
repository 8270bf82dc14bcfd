/**
 * The controller manager (DESIGN 6): campaigns for the `skyshift-controller-manager`
 * Lease through the API and, while leading, runs the shared informers, the
 * scheduler and one skylet per cluster. Losing the lease stops them all; a
 * standby process takes over once the lease expires (or at once when the
 * leader shuts down cleanly and releases it).
 */
import type { SkyShiftClient } from '../client/index.js';
import { EventRecorder, errText } from './events.js';
import { SharedInformers } from './informers.js';
import { clientLeaseApi } from './lease-api.js';
import { LeaderElector, systemClock, type Clock } from './runtime/index.js';
import { Reservations } from './scheduler/index.js';
import { SchedulerController } from './scheduler-controller.js';
import { ClusterController } from './skylet/index.js';
import { DEFAULT_OPTIONS, type ControllerOptions, type Logger } from './types.js';
import { WriteSlots } from './write-slots.js';

/** Job-sync status writes in flight across all skylets (see write-slots.ts). */
const SYNC_WRITE_SLOTS = 16;

export const LEASE_NAME = 'skyshift-controller-manager';

export interface RunControllersParams {
  client: SkyShiftClient;
  /** Unique per process, e.g. `hostname_pid`. */
  identity: string;
  clock?: Clock;
  logger: Logger;
  options?: Partial<ControllerOptions>;
  /** Stops everything (and releases the lease) when aborted. */
  signal: AbortSignal;
  /** Called when this process starts or stops leading (tests, logs). */
  onLeading?: (leading: boolean) => void;
}

/** Runs until `signal` aborts. */
export async function runControllers(params: RunControllersParams): Promise<void> {
  const clock = params.clock ?? systemClock;
  const options: ControllerOptions = { ...DEFAULT_OPTIONS, ...params.options };
  const { logger } = params;
  const leaseMs = options.leaseDurationSeconds * 1000;
  // Kubernetes' ratios (15/10/2): renew well before anyone may consider the lease expired.
  const elector = new LeaderElector({
    api: clientLeaseApi(params.client),
    name: LEASE_NAME,
    identity: params.identity,
    clock,
    leaseDurationMs: leaseMs,
    renewDeadlineMs: Math.floor(leaseMs * (2 / 3)),
    retryPeriodMs: Math.max(100, Math.floor(leaseMs * (2 / 15))),
    onStartedLeading: async (term) => {
      logger.info({ identity: params.identity }, 'leading: starting controllers');
      params.onLeading?.(true);
      await runLeaderTerm(params.client, clock, logger, options, term);
    },
    onStoppedLeading: () => {
      logger.info({ identity: params.identity }, 'stopped leading');
      params.onLeading?.(false);
    },
    onNewLeader: (holder) => {
      if (holder !== params.identity) logger.info({ leader: holder ?? '(none)' }, 'leader observed');
    },
    onError: (err) => logger.debug({ err: errText(err) }, 'lease attempt failed'),
  });
  await elector.run(params.signal);
}

/** Everything a leader runs, for one term. Fresh state each term: nothing carries over from a lost lease. */
export async function runLeaderTerm(client: SkyShiftClient, clock: Clock, logger: Logger, options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const informers = new SharedInformers(client, logger);
  const reservations = new Reservations();
  const recorder = new EventRecorder(client, clock, logger);
  const deps = { clock, logger, options };
  const scheduler = new SchedulerController(client, informers, reservations, recorder, deps);
  const clusters = new ClusterController({
    ...deps,
    client,
    informers,
    reservations,
    recorder,
    syncSlots: new WriteSlots(SYNC_WRITE_SLOTS),
    evict: (job, cluster, ranks, message, s) => scheduler.evict(job, cluster, ranks, message, s),
  });
  const { done, whenSynced } = informers.run(signal);
  await whenSynced;
  if (signal.aborted) {
    await done;
    return;
  }
  logger.info({ clusters: informers.clusters.list().length, jobs: informers.jobs.list().length }, 'caches synced');
  await Promise.all([scheduler.run(signal), clusters.run(signal), done]);
  await recorder.flush();
}
