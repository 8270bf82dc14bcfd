/**
 * The controller manager (DESIGN 6): campaigns for a Lease through the API
 * and, while leading, runs a LIST of controllers over shared informers.
 * Adding a controller is one file and one line in CONTROLLERS. Losing the
 * lease stops them all; a standby process takes over once the lease expires
 * (or at once when the leader shuts down cleanly and releases it).
 *
 * Leadership is per group of controllers: a process running all of them
 * campaigns for `skyshift-controller-manager`; one started with `only`
 * campaigns for `skyshift-controller-manager-<names>` (e.g. `...-scheduler`),
 * so a scheduler process and a skylets process each have one leader of
 * their own. Run either every controller in one group or the groups apart,
 * never both at once: two groups holding the same controller would both run it.
 */
import { setMaxListeners } from 'node:events';
import type { SkyShiftClient } from '../client/index.js';
import { systemClock, type Clock } from '../lib/index.js';
import type { Controller, ControllerContext, ControllerFactory } from './controller.js';
import { DEFAULT_OPTIONS, type ControllerOptions, type Logger } from './options.js';
import { EventRecorder, LeaderElector, SharedInformers, clientLeaseApi, errText, leaderGauge } from './runtime/index.js';
import { createAgentHealth } from './agent-health/index.js';
import { createScheduler } from './scheduler/index.js';
import { createSkylets } from './skylet/index.js';
import { createTtlController } from './ttl/index.js';

/** Every controller, in start order. */
export const CONTROLLERS: readonly ControllerFactory[] = [
  { name: 'scheduler', create: createScheduler },
  { name: 'skylets', create: createSkylets },
  { name: 'ttl', create: createTtlController },
  { name: 'agent-health', create: createAgentHealth },
];

export const LEASE_NAME = 'skyshift-controller-manager';

/** The lease a group of controllers campaigns for (see the file comment). */
export function leaseNameFor(only?: readonly string[]): string {
  return only && only.length > 0 ? `${LEASE_NAME}-${[...only].sort().join('-')}` : LEASE_NAME;
}

export interface RunControllersParams {
  client: SkyShiftClient;
  /** Unique per process, e.g. `hostname_pid`. */
  identity: string;
  clock?: Clock;
  logger: Logger;
  options?: Partial<ControllerOptions>;
  /** Run only these controllers (names from CONTROLLERS); default all. */
  only?: readonly string[];
  /** Stops everything (and releases the lease) when aborted. */
  signal: AbortSignal;
  /** Called when this process starts or stops leading (tests, logs). */
  onLeading?: (leading: boolean) => void;
}

/** The factories `only` selects; unknown names are an error, not a silent no-op. */
export function selectControllers(only?: readonly string[]): ControllerFactory[] {
  if (!only || only.length === 0) return [...CONTROLLERS];
  const unknown = only.filter((n) => !CONTROLLERS.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`unknown controller ${unknown.map((n) => `'${n}'`).join(', ')}; known: ${CONTROLLERS.map((c) => c.name).join(', ')}`);
  return CONTROLLERS.filter((c) => only.includes(c.name));
}

/** Runs until `signal` aborts. */
export async function runControllers(params: RunControllersParams): Promise<void> {
  const clock = params.clock ?? systemClock;
  // Every informer, sleep and queue of every controller listens on this one signal: many by design.
  setMaxListeners(0, params.signal);
  const options: ControllerOptions = { ...DEFAULT_OPTIONS, ...params.options };
  const factories = selectControllers(params.only);
  const { logger } = params;
  const leaseMs = options.leaseDurationSeconds * 1000;
  const lease = leaseNameFor(params.only);
  // Kubernetes' ratios (15/10/2): renew well before anyone may consider the lease expired.
  leaderGauge.set({ lease }, 0);
  const elector = new LeaderElector({
    api: clientLeaseApi(params.client),
    name: lease,
    identity: params.identity,
    clock,
    leaseDurationMs: leaseMs,
    renewDeadlineMs: Math.floor(leaseMs * (2 / 3)),
    retryPeriodMs: Math.max(100, Math.floor(leaseMs * (2 / 15))),
    onStartedLeading: async (term) => {
      logger.info({ identity: params.identity, lease, controllers: factories.map((f) => f.name) }, 'leading: starting controllers');
      params.onLeading?.(true);
      leaderGauge.set({ lease }, 1);
      await runLeaderTerm(params.client, clock, logger, options, term, factories);
    },
    onStoppedLeading: () => {
      logger.info({ identity: params.identity, lease }, 'stopped leading');
      params.onLeading?.(false);
      leaderGauge.set({ lease }, 0);
    },
    onNewLeader: (holder) => {
      if (holder !== params.identity) logger.info({ leader: holder ?? '(none)', lease }, 'leader observed');
    },
    onError: (err) => logger.debug({ err: errText(err) }, 'lease attempt failed'),
  });
  await elector.run(params.signal);
}

/** Everything a leader runs, for one term. Fresh state each term: nothing carries over from a lost lease. */
export async function runLeaderTerm(
  client: SkyShiftClient,
  clock: Clock,
  logger: Logger,
  options: ControllerOptions,
  signal: AbortSignal,
  factories: readonly ControllerFactory[] = CONTROLLERS,
): Promise<void> {
  setMaxListeners(0, signal);
  const informers = new SharedInformers(client, logger);
  const events = new EventRecorder(client, clock, logger);
  const ctx: ControllerContext = { client, informers, events, clock, logger, options };
  // Built before the informers start: each registers the kinds it watches and its handlers.
  const controllers: Controller[] = factories.map((f) => f.create(ctx));
  const { done, whenSynced } = informers.run(signal);
  await whenSynced;
  if (signal.aborted) {
    await done;
    return;
  }
  logger.info({ kinds: informers.kinds, controllers: controllers.map((c) => c.name) }, 'caches synced');
  await Promise.all([...controllers.map((c) => c.run(signal)), done]);
  await events.flush();
}
