/**
 * Leader election over a Lease object (DESIGN 6), as Kubernetes does it:
 * a candidate takes the lease when it is absent, released (no holder) or
 * expired (renewTime + leaseDurationSeconds < now); the leader renews every
 * retryPeriod with optimistic concurrency (update carries resourceVersion,
 * a concurrent writer gets Conflict), and gives up leading once it has not
 * renewed for renewDeadline. renewDeadline + retryPeriod < leaseDuration, so
 * the old leader has stopped before anyone else can consider the lease
 * expired: there are never two leaders as long as clocks roughly agree.
 */
import { setMaxListeners } from 'node:events';
import type { Lease } from '../../api/index.js';
import { sleep, systemClock, type Clock } from '../../lib/index.js';

/** The slice of the REST client leader election needs. update() must throw when resourceVersion is stale. */
export interface LeaseApi {
  get(name: string): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  update(lease: Lease): Promise<Lease>;
}

export interface LeaderElectionOptions {
  api: LeaseApi;
  /** Lease name, e.g. `skyshift-controller-manager`. */
  name: string;
  /** Unique per candidate process, e.g. `hostname_pid_random`. */
  identity: string;
  clock?: Clock;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Give the lease up on shutdown so a standby takes over at once (default true). */
  releaseOnCancel?: boolean;
  /** Start the controllers; `signal` aborts when leadership is lost or the elector stops. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  onStoppedLeading?: () => void;
  /** Someone else (or nobody: undefined) holds the lease now. */
  onNewLeader?: (identity: string | undefined) => void;
  onError?: (error: unknown) => void;
}

export class LeaderElector {
  readonly identity: string;
  private readonly api: LeaseApi;
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private lastObservedHolder: string | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.identity = options.identity;
    this.api = options.api;
    this.clock = options.clock ?? systemClock;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.renewDeadlineMs + this.retryPeriodMs < this.leaseDurationMs)) {
      throw new Error('leader election: renewDeadlineMs + retryPeriodMs must be less than leaseDurationMs');
    }
    if (!(this.retryPeriodMs > 0)) throw new Error('leader election: retryPeriodMs must be positive');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaign until `signal` aborts. Leadership may be won and lost several
   * times; each term gets its own onStartedLeading signal.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.acquire(signal))) break;
      await this.lead(signal);
    }
  }

  /** One attempt to take or keep the lease. True when we hold it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const stamp = new Date(now).toISOString();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let current: Lease | undefined;
    try {
      current = await this.api.get(this.options.name);
      if (!current) {
        await this.api.create({
          kind: 'Lease',
          metadata: { name: this.options.name, labels: {}, annotations: {} },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 },
          status: {},
        });
        this.observe(this.identity);
        return true;
      }
      const holder = current.spec.holderIdentity || undefined;
      this.observe(holder);
      if (holder !== undefined && holder !== this.identity && !this.expired(current, now)) return false;
      const takingOver = holder !== this.identity;
      await this.api.update({
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: this.identity,
          leaseDurationSeconds: durationSeconds,
          renewTime: stamp,
          acquireTime: takingOver ? stamp : (current.spec.acquireTime ?? stamp),
          leaseTransitions: (current.spec.leaseTransitions ?? 0) + (takingOver && holder !== undefined ? 1 : 0),
        },
      });
      this.observe(this.identity);
      return true;
    } catch (error) {
      // Conflict / AlreadyExists mean another candidate wrote first; anything else is a failed attempt too.
      this.options.onError?.(error);
      return false;
    }
  }

  private expired(lease: Lease, now: number): boolean {
    const renew = Date.parse(lease.spec.renewTime ?? '');
    if (Number.isNaN(renew)) return true;
    return renew + lease.spec.leaseDurationSeconds * 1000 < now;
  }

  private observe(holder: string | undefined): void {
    if (holder === this.lastObservedHolder) return;
    this.lastObservedHolder = holder;
    this.options.onNewLeader?.(holder);
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) return !signal.aborted;
      await sleep(this.retryPeriodMs, signal, this.clock);
    }
    return false;
  }

  private async lead(signal: AbortSignal): Promise<void> {
    // The renew time we wrote was taken before the write, so counting from it is conservative.
    let lastRenew = this.clock.now();
    const term = new AbortController();
    // The term's signal reaches every controller's informers, sleeps and queues: many listeners by design.
    setMaxListeners(0, term.signal);
    this.leading = true;
    Promise.resolve()
      .then(() => this.options.onStartedLeading(term.signal))
      .catch((error: unknown) => this.options.onError?.(error));
    try {
      while (!signal.aborted) {
        const untilDeadline = lastRenew + this.renewDeadlineMs - this.clock.now();
        if (untilDeadline <= 0) break;
        await sleep(Math.min(this.retryPeriodMs, untilDeadline), signal, this.clock);
        if (signal.aborted) break;
        const attemptAt = this.clock.now();
        if (attemptAt - lastRenew >= this.renewDeadlineMs) break;
        // A renew that hangs must not keep us leading past the deadline.
        const ok = await this.withDeadline(this.tryAcquireOrRenew(), lastRenew + this.renewDeadlineMs - attemptAt);
        if (ok && this.clock.now() - lastRenew < this.renewDeadlineMs) lastRenew = attemptAt;
      }
    } finally {
      this.leading = false;
      term.abort();
      this.options.onStoppedLeading?.();
    }
    if (signal.aborted && (this.options.releaseOnCancel ?? true)) await this.release();
  }

  private withDeadline(attempt: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), Math.max(0, ms));
      void attempt.then((ok) => {
        this.clock.clearTimeout(timer);
        resolve(ok);
      });
    });
  }

  /** Hand the lease back (holder cleared) so a standby need not wait for expiry. */
  private async release(): Promise<void> {
    try {
      const current = await this.api.get(this.options.name);
      if (!current || current.spec.holderIdentity !== this.identity) return;
      await this.api.update({ ...current, spec: { ...current.spec, holderIdentity: '', renewTime: new Date(this.clock.now()).toISOString() } });
      this.observe(undefined);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
