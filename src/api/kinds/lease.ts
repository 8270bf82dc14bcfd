/** Lease: leader election among controller managers, renewed with optimistic concurrency. */
import Type from 'typebox';
import { Obj, Timestamp } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const LeaseSpec = Obj(
  {
    holderIdentity: Type.Optional(Type.String({ description: 'empty or absent: nobody holds the lease' })),
    leaseDurationSeconds: Type.Integer({ minimum: 1, default: 15 }),
    acquireTime: Type.Optional(Timestamp()),
    renewTime: Type.Optional(Timestamp()),
    leaseTransitions: Type.Integer({ minimum: 0, default: 0 }),
  },
  { default: {} },
);
export const LeaseStatus = Obj({}, { default: {} });
export const LeaseSchema = Envelope('Lease', false, LeaseSpec, LeaseStatus);
export type LeaseSpec = Type.Static<typeof LeaseSpec>;
/** A Lease has no status fields; typed as an empty record so a Lease is an ApiObject like every other kind. */
export type Lease = Omit<Type.Static<typeof LeaseSchema>, 'status'> & { status: Record<string, never> };

export const leaseKind: KindDef = {
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  shortNames: [],
  namespaced: false,
  schema: LeaseSchema,
  status: LeaseStatus,
};
