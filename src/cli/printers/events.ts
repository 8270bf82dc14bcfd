/**
 * Events for `get events`: oldest first by when they last happened, so the
 * newest is at the bottom next to the prompt (as kubectl does), and the
 * `--for KIND/NAME` filter.
 */
import { resolveKindName, type ApiObject } from '../../client/core.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});

/** lastTimestamp, else firstTimestamp, else when the Event object was created. */
export function eventTime(ev: ApiObject): number {
  const spec = rec(ev.spec);
  for (const t of [spec.lastTimestamp, spec.firstTimestamp, ev.metadata.creationTimestamp]) {
    const ms = typeof t === 'string' ? Date.parse(t) : NaN;
    if (!Number.isNaN(ms)) return ms;
  }
  return 0;
}

export function sortEvents(events: readonly ApiObject[]): ApiObject[] {
  return [...events].sort((a, b) => eventTime(a) - eventTime(b) || a.metadata.name.localeCompare(b.metadata.name));
}

export interface InvolvedRef {
  kind: string;
  name: string;
}

/** `job/hello`, `jobs/hello`, `Job/hello`: the kind is matched by its canonical name. Undefined if malformed. */
export function parseInvolved(text: string): InvolvedRef | undefined {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(text);
  if (!m) return undefined;
  const kindText = m[1] as string;
  return { kind: resolveKindName(kindText)?.kind ?? kindText, name: m[2] as string };
}

export function involves(ev: ApiObject, ref: InvolvedRef): boolean {
  const involved = rec(rec(ev.spec).involvedObject);
  return String(involved.kind ?? '').toLowerCase() === ref.kind.toLowerCase() && involved.name === ref.name;
}
