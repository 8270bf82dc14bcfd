/**
 * Shared informers keyed by kind (the API plural: `jobs`, `clusters`, ...).
 * A controller asks for the kinds it needs when it is built; the first ask
 * creates the informer, later ones share it. run() starts every informer
 * asked for so far. Objects can also be looked up by uid (`byUid`), e.g. the
 * skylets' task sweeps, which know a manager-side job by uid only.
 */
import { Informer, type ApiObject, type SkyShiftClient } from '../../client/index.js';
import type { Logger } from '../options.js';

export class SharedInformers {
  // One informer per kind, each of its own object type: the map is heterogeneous, the caller names the type.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly byKind = new Map<string, Informer<any>>();
  private readonly uidIndexes = new Map<string, Map<string, ApiObject>>();

  constructor(
    private readonly client: SkyShiftClient,
    private readonly logger: Logger,
  ) {}

  /** The informer of `plural`, created on first use (before run(), so no event is missed). */
  informer<T extends ApiObject>(plural: string): Informer<T> {
    let inf = this.byKind.get(plural);
    if (!inf) {
      const onError = (err: unknown, retryInMs: number) =>
        this.logger.warn({ kind: plural, err: err instanceof Error ? err.message : String(err), retryInMs }, 'watch failed; retrying');
      inf = new Informer<ApiObject>(this.client, plural, { onError });
      this.byKind.set(plural, inf);
    }
    return inf;
  }

  /** Looks objects of `plural` up by metadata.uid; the index is kept from the informer's events. */
  byUid<T extends ApiObject>(plural: string): (uid: string) => T | undefined {
    let index = this.uidIndexes.get(plural);
    if (!index) {
      const idx = new Map<string, ApiObject>();
      index = idx;
      this.uidIndexes.set(plural, idx);
      const put = (o: ApiObject) => {
        if (o.metadata.uid) idx.set(o.metadata.uid, o);
      };
      const inf = this.informer<ApiObject>(plural);
      for (const o of inf.list()) put(o);
      inf
        .onAdd(put)
        .onUpdate((_, o) => put(o))
        .onDelete((o) => {
          if (o.metadata.uid && idx.get(o.metadata.uid)?.metadata.name === o.metadata.name) idx.delete(o.metadata.uid);
        });
    }
    const found = index;
    return (uid) => found.get(uid) as T | undefined;
  }

  get kinds(): string[] {
    return [...this.byKind.keys()];
  }

  get synced(): boolean {
    return [...this.byKind.values()].every((i) => i.isSynced);
  }

  /** Runs every informer until `signal` aborts; `whenSynced` resolves after the first full list of each. */
  run(signal: AbortSignal): { done: Promise<void>; whenSynced: Promise<void> } {
    const all = [...this.byKind.values()];
    const done = Promise.all(all.map((i) => i.run(signal))).then(() => undefined);
    const synced = Promise.all(all.map((i) => i.hasSynced())).then(() => undefined);
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return { done, whenSynced: Promise.race([synced, aborted]) };
  }
}
