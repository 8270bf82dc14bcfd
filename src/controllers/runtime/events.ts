/**
 * EventRecorder: Events for every notable step, written in the object's
 * namespace (cluster events in `default`). De-duplicated by construction: the
 * Event name is derived from (object uid, reason, message), so repeating the
 * same thing bumps `count` on the existing Event — also across restarts —
 * instead of creating a new one. Writes are fire-and-forget and serialised per
 * Event so reconcilers never wait on them.
 */
import { createHash } from 'node:crypto';
import { ApiError, type ApiObject, type SkyShiftClient } from '../../client/index.js';
import { eventsSuppressed } from './metrics.js';
import type { Clock } from '../../lib/index.js';
import type { Logger } from '../options.js';

export type EventReason =
  | 'Scheduled'
  | 'FailedScheduling'
  | 'Submitted'
  | 'Started'
  | 'Completed'
  | 'Failed'
  | 'Evicted'
  | 'Restarted'
  | 'Cancelled'
  | 'ClusterReady'
  | 'ClusterError'
  | 'ClusterDeleted'
  | 'InvalidObject'
  | 'ReconcileFailed'
  | 'SubmitFailed';

interface EventBody {
  kind: 'Event';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    involvedObject: { kind: string; name: string; namespace?: string; uid?: string };
    reason: string;
    message: string;
    type: 'Normal' | 'Warning';
    count: number;
    firstTimestamp: string;
    lastTimestamp: string;
    source: string;
  };
  status: Record<string, unknown>;
}

export class EventRecorder {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly known = new Map<string, EventBody>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly client: SkyShiftClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  record(obj: ApiObject, reason: EventReason, message: string, options: { type?: 'Normal' | 'Warning'; source?: string } = {}): void {
    if (SAMPLED.has(reason)) {
      let bucket = this.buckets.get(reason);
      if (!bucket) this.buckets.set(reason, (bucket = new TokenBucket(SAMPLED_RATE, SAMPLED_BURST, () => this.clock.now())));
      // Past the rate these routine events are skipped: the job's status still says the same thing.
      if (!bucket.take()) {
        eventsSuppressed.inc({ reason });
        return;
      }
    }
    const ns = obj.metadata.namespace ?? 'default';
    const uid = obj.metadata.uid ?? `${obj.kind}/${ns}/${obj.metadata.name}`;
    const digest = createHash('sha256').update(`${uid}\n${reason}\n${message}`).digest('hex').slice(0, 10);
    // Event names are `<object>.<suffix>` (DNS subdomain); long object names are cut to keep within 253.
    const name = `${obj.metadata.name.slice(0, 200)}.${digest}`;
    const key = `${ns}/${name}`;
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => this.limited(() => this.write(key, ns, name, obj, reason, message, options)))
      .catch((err: unknown) => this.logger.warn({ err: errText(err), reason, object: obj.metadata.name }, 'could not record event'));
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** A burst (10,000 jobs scheduled at once) must not open 10,000 requests at once. */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    while (this.active >= MAX_IN_FLIGHT) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** Waits for the events recorded so far (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private async write(
    key: string,
    ns: string,
    name: string,
    obj: ApiObject,
    reason: EventReason,
    message: string,
    options: { type?: 'Normal' | 'Warning'; source?: string },
  ): Promise<void> {
    const now = new Date(this.clock.now()).toISOString();
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = this.known.get(key);
      if (!existing) {
        const body: EventBody = {
          kind: 'Event',
          metadata: { name, namespace: ns },
          spec: {
            involvedObject: {
              kind: obj.kind,
              name: obj.metadata.name,
              ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
              ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
            },
            reason,
            message,
            type: options.type ?? (WARNINGS.has(reason) ? 'Warning' : 'Normal'),
            count: 1,
            firstTimestamp: now,
            lastTimestamp: now,
            source: options.source ?? 'skyshift-controller-manager',
          },
          status: {},
        };
        try {
          this.remember(key, await this.client.create<EventBody & { metadata: { name: string } }>('events', body, { namespace: ns }));
          return;
        } catch (err) {
          if (!(err instanceof ApiError) || err.reason !== 'AlreadyExists') throw err;
          this.remember(key, await this.client.get<EventBody>('events', name, { namespace: ns }));
          continue;
        }
      }
      const bumped: EventBody = { ...existing, spec: { ...existing.spec, count: existing.spec.count + 1, lastTimestamp: now } };
      try {
        this.remember(key, await this.client.update<EventBody>('events', bumped, { namespace: ns }));
        return;
      } catch (err) {
        if (!(err instanceof ApiError) || (err.reason !== 'Conflict' && err.reason !== 'NotFound')) throw err;
        this.known.delete(key);
        if (err.reason === 'Conflict') this.remember(key, await this.client.get<EventBody>('events', name, { namespace: ns }));
      }
    }
  }

  private remember(key: string, ev: EventBody): void {
    // Bounded: only the most recent events are bumped without a GET.
    if (this.known.size > 5000) this.known.delete(this.known.keys().next().value as string);
    this.known.set(key, ev);
  }
}

const MAX_IN_FLIGHT = 8;
/**
 * One Event per job per step doubles the API writes of a burst (10,000 jobs
 * scheduled, submitted and started within seconds). These routine Normal
 * events get a burst of 200 and then 50/s each; warnings are never skipped.
 */
const SAMPLED = new Set<string>(['Scheduled', 'Submitted', 'Started']);
const SAMPLED_BURST = 200;
const SAMPLED_RATE = 50;
const WARNINGS = new Set<string>(['FailedScheduling', 'Failed', 'Evicted', 'ClusterError', 'InvalidObject', 'ReconcileFailed', 'SubmitFailed']);

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Token bucket for Events that may come in floods (a burst of 10,000 jobs
 * scheduled at once): each Event is an API write, so past the rate they are
 * skipped (and counted by the caller) rather than doubling the write load.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
