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
  const watcher = builder
    .startRevision(String(afterRevision + 1))
    .withPreviousKV()
    .watcher();
  const queue: Array<StoreEvent | Error> = [];
  let wake: (() => void) | undefined;
  let last = afterRevision;
  let canceledByEtcd = false;

  // etcd3 resumes a reconnected watch after the header revision of the last response (even of the
  // creation response), which can run past events etcd had not sent yet, e.g. a catch-up still in
  // progress when the connection dropped. Resume after the last event actually received instead.
  let received = afterRevision;
  const resumeAfterReceived = () => {
    (watcher.request as { start_revision?: number | string }).start_revision = received + 1;
  };
  watcher.on('connected', resumeAfterReceived);
  watcher.on('data', (res: { events: RawEvent[] }) => {
    for (const ev of res.events) {
      const event = toEvent(ev);
      received = Math.max(received, event.revision);
      queue.push(event);
    }
    resumeAfterReceived();
    wake?.();
  });
  watcher.on('error', (err: Error) => {
    canceledByEtcd = true;
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
    // etcd3 has already dropped a canceled watcher, and cancel() on it would wait forever for an id.
    if (!canceledByEtcd) await cancelWithin(watcher, 2000);
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

/** Cancel, but never let a stuck connection hold the caller's loop open. */
async function cancelWithin(watcher: { cancel(): Promise<void> }, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    watcher.cancel().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
