/** A level-triggered wake-up: many kicks while a loop is busy collapse into one more run. */
import { sleep, type Clock } from '../../lib/index.js';

export class Trigger {
  private pending = false;
  private wake: (() => void) | undefined;

  kick(): void {
    this.pending = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves when kicked (true) or after `ms` / on abort (false). Consumes the kick. */
  async wait(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
    if (!this.pending) {
      const kicked = new Promise<void>((resolve) => (this.wake = resolve));
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      await Promise.race([kicked, sleep(ms, stop.signal, clock)]);
      stop.abort();
      signal.removeEventListener('abort', onAbort);
      this.wake = undefined;
    }
    const was = this.pending;
    this.pending = false;
    return was;
  }
}
