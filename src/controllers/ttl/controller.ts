/**
 * The TTL controller: finished things are not kept forever.
 *  - A Job with `spec.ttlSecondsAfterFinished` is deleted that long after it
 *    turned COMPLETED or FAILED (as Kubernetes' TTL-after-finished controller).
 *    The finish time is `status.completionTime`, else the newest condition
 *    transition, else when this controller first saw it finished (a restart
 *    only delays a deletion, never hastens one).
 *  - An Event is deleted `eventTtlSeconds` (default 1 h) after it last
 *    happened (`lastTimestamp`, else its creation), as the API server's event
 *    TTL does in Kubernetes.
 * Jobs from the shared informer's cache, swept every few seconds; events by a
 * paged list once a minute (an hour's TTL needs no finer grain, and a watch of
 * every event would cost the busy scheduler's write rate). Deletes carry the
 * resourceVersion seen, so an object changed meanwhile is looked at again.
 */
import { isTerminal, type Job } from '../../api/index.js';
import { ApiError, type ApiObject } from '../../client/index.js';
import { sleep } from '../../lib/index.js';
import type { Controller, ControllerContext } from '../controller.js';
import { errText } from '../runtime/index.js';

export const DEFAULT_EVENT_TTL_SECONDS = 3600;
const SWEEP_MS = 2_000;
const EVENT_SWEEP_MS = 60_000;

type EventObj = ApiObject<{ lastTimestamp?: string; firstTimestamp?: string }>;

/** When `job` finished by its status; undefined when it has not or the status does not say. */
export function finishedAt(job: Job): number | undefined {
  if (!isTerminal(job.status?.phase)) return undefined;
  const explicit = Date.parse(job.status.completionTime ?? '');
  if (!Number.isNaN(explicit)) return explicit;
  const times = (job.status.conditions ?? []).map((c) => Date.parse(c.lastTransitionTime ?? '')).filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : undefined;
}

export function createTtlController(ctx: ControllerContext): Controller {
  const jobs = ctx.informers.informer<Job>('jobs');
  const eventTtlMs = (ctx.options.eventTtlSeconds ?? DEFAULT_EVENT_TTL_SECONDS) * 1000;
  /** uid -> first time seen finished, for jobs whose status names no time. */
  const firstSeen = new Map<string, number>();

  async function remove(plural: string, obj: ApiObject, signal: AbortSignal): Promise<boolean> {
    try {
      await ctx.client.delete(plural, obj.metadata.name, {
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
        ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
        signal,
      });
      return true;
    } catch (err) {
      // Gone already, or changed since (seen again on the next sweep).
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return false;
      throw err;
    }
  }

  let nextEventSweep = 0;

  async function sweepEvents(now: number, signal: AbortSignal): Promise<void> {
    let expired = 0;
    let page: string | undefined;
    do {
      const list = await ctx.client.list<EventObj>('events', { allNamespaces: true, limit: 500, ...(page ? { continue: page } : {}), signal });
      for (const ev of list.items) {
        const last = Date.parse(ev.spec?.lastTimestamp ?? ev.metadata.creationTimestamp ?? '');
        if (Number.isNaN(last) || now < last + eventTtlMs) continue;
        if (await remove('events', ev, signal)) expired++;
      }
      page = list.metadata.continue || undefined;
    } while (page && !signal.aborted);
    if (expired > 0) ctx.logger.debug({ count: expired }, 'deleted expired events');
  }

  async function sweep(signal: AbortSignal): Promise<void> {
    const now = ctx.clock.now();
    const live = new Set<string>();
    for (const job of jobs.list()) {
      const ttl = job.spec?.ttlSecondsAfterFinished;
      const uid = job.metadata.uid ?? '';
      if (ttl === undefined || !isTerminal(job.status?.phase)) continue;
      live.add(uid);
      let at = finishedAt(job);
      if (at === undefined) {
        if (!firstSeen.has(uid)) firstSeen.set(uid, now);
        at = firstSeen.get(uid) as number;
      }
      if (now < at + ttl * 1000) continue;
      if (await remove('jobs', job, signal)) {
        ctx.logger.info(
          { job: `${job.metadata.namespace}/${job.metadata.name}`, ttlSecondsAfterFinished: ttl },
          'deleted finished job (ttlSecondsAfterFinished)',
        );
      }
    }
    for (const uid of firstSeen.keys()) if (!live.has(uid)) firstSeen.delete(uid);
    if (now >= nextEventSweep) {
      await sweepEvents(now, signal);
      nextEventSweep = now + EVENT_SWEEP_MS;
    }
  }

  return {
    name: 'ttl',
    async run(signal) {
      while (!signal.aborted) {
        try {
          await sweep(signal);
        } catch (err) {
          if (!signal.aborted) ctx.logger.warn({ err: errText(err) }, 'ttl sweep failed');
        }
        await sleep(SWEEP_MS, signal, ctx.clock);
      }
    },
  };
}
