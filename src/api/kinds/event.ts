/**
 * Event: what happened to an object. Unlike Kubernetes, the event fields live
 * in `spec` so every kind keeps the same {kind, metadata, spec, status}
 * envelope (generic routes, printers and the store need no special case).
 * `status` is always empty.
 */
import Type from 'typebox';
import { Enum, NonEmpty, Obj, Timestamp } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const InvolvedObject = Obj({
  kind: NonEmpty(),
  name: NonEmpty(),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
});
export const EventSpec = Obj({
  involvedObject: InvolvedObject,
  reason: NonEmpty({ description: 'Scheduled, FailedScheduling, Submitted, Evicted, ...' }),
  message: Type.String({ default: '' }),
  type: Enum(['Normal', 'Warning'], { default: 'Normal' }),
  count: Type.Integer({ minimum: 1, default: 1 }),
  firstTimestamp: Type.Optional(Timestamp()),
  lastTimestamp: Type.Optional(Timestamp()),
  source: Type.Optional(Type.String({ description: 'component that reported it, e.g. scheduler or skylet/gpu-a' })),
});
export const EventStatus = Obj({}, { default: {} });
export const EventSchema = Envelope('Event', true, EventSpec, EventStatus);
export type EventSpec = Type.Static<typeof EventSpec>;
export type Event = Type.Static<typeof EventSchema>;

export const eventKind: KindDef = {
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  nameRule: 'subdomain',
  schema: EventSchema,
  status: EventStatus,
};
