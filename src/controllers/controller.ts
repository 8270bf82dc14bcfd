/**
 * The Controller contract (DESIGN 11): a controller is `{ name, run(signal) }`
 * made by a factory from a context. The factory runs before the shared
 * informers start, so it registers its event handlers (and thereby the kinds
 * it watches) there; run() starts once every cache has synced and returns
 * when `signal` aborts. Controllers share nothing in memory but the
 * read-only caches: what one must tell another travels through the API.
 */
import type { SkyShiftClient } from '../client/index.js';
import type { Clock } from '../lib/index.js';
import type { ControllerOptions, Logger } from './options.js';
import type { EventRecorder, SharedInformers } from './runtime/index.js';

export interface ControllerContext {
  client: SkyShiftClient;
  /** Shared informers keyed by kind (plural): every controller reads the same caches. */
  informers: SharedInformers;
  /** Events for every notable step. */
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
  options: ControllerOptions;
}

export interface Controller {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
}

export interface ControllerFactory {
  /** Selects the controller in `runControllers({ only })` and names it in logs. */
  readonly name: string;
  create(ctx: ControllerContext): Controller;
}

/** What most parts of a controller need from its context. */
export type ControllerDeps = Pick<ControllerContext, 'clock' | 'logger' | 'options'>;
