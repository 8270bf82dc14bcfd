/** An etcd prefix watch as an ordered async iterable of StoreEvents. */
import type { Etcd3, IKeyValue } from 'etcd3';
import { StoreError, type JsonObject, type StoreEvent } from '../types.js';

interface RawEvent {
  type: string;
  kv: IKeyValue;
  prev_kv?: IKeyValue | null;
}

export async function* watchEtcd(client: Etcd3, prefix: string, afterRevision: number, signal: AbortSignal): AsyncGenerator<StoreEvent> {
  if (signal.aborted) return;
  const builder = client.watch().prefix(prefix);
  // watcher() (not create()) so our listeners are attached before anything can fire.
  const watcher = builder.startRevision(String(afterRevision + 1)).withPreviousKV().watcher();
  const queue: Array<StoreEvent | Error> = [];
  let wake: (() => void) | undefined;
  let last = afterRevision;

  watcher.on('data', (res: { events: RawEvent[] }) => {
    for (const ev of res.events) queue.push(toEvent(ev));
    // etcd3 resumes a reconnected watch after the response's header revision, which can run past the
    // events of a partial catch-up batch; resume after the last event we actually received instead.
    const lastEvent = res.events[res.events.length - 1];
    if (lastEvent) (watcher.request as { start_revision?: number | string }).start_revision = Number(lastEvent.kv.mod_revision) + 1;
    wake?.();
  });
  watcher.on('error', (err: Error) => {
    // etcd3 drops compact_revision from the cancel response and reports "Watcher canceled: " with an
    // empty reason; a watch that carries a start revision is canceled by etcd only for compaction.
    queue.push(
      /Watcher canceled/.test(err.message)
        ? new StoreError('Expired', `watch of '${prefix}' from revision ${afterRevision}: history has been compacted`)
        : new StoreError('Unavailable', `watch of '${prefix}' failed: ${err.message}`),
    );
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    while (!signal.aborted) {
      const item = queue.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (item instanceof Error) throw item;
      // A resumed watch may repeat what we already delivered.
      if (item.revision <= last) continue;
      last = item.revision;
      yield item;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await watcher.cancel().catch(() => undefined);
  }
}

function toEvent(ev: RawEvent): StoreEvent {
  const prev = ev.prev_kv ? (JSON.parse(ev.prev_kv.value.toString()) as JsonObject) : undefined;
  const revision = Number(ev.kv.mod_revision);
  if (ev.type.toLowerCase() === 'delete') {
    // A tombstone has no value or create revision; both come from the previous kv.
    const value = prev ?? {};
    return {
      type: 'delete',
      key: ev.kv.key.toString(),
      value,
      prevValue: value,
      revision,
      createRevision: ev.prev_kv ? Number(ev.prev_kv.create_revision) : 0,
    };
  }
  const event: StoreEvent = {
    type: 'put',
    key: ev.kv.key.toString(),
    value: JSON.parse(ev.kv.value.toString()) as JsonObject,
    revision,
    createRevision: Number(ev.kv.create_revision),
  };
  if (prev !== undefined) event.prevValue = prev;
  return event;
}
