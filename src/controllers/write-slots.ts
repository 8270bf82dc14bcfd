/**
 * A counting semaphore for API writes shared by many writers. Every skylet's
 * job sync writes status; with 100 clusters and a few writes in flight each,
 * hundreds of sync writes would queue at the API server ahead of the
 * scheduler's placement writes. One budget for all of them keeps job sync
 * from crowding placement out: sync writes report progress, placements make it.
 */
export class WriteSlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (active stays), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
