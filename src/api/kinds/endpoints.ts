/** Endpoints: per-cluster endpoint counts of a service, written by controllers (name = service name). */
import Type from 'typebox';
import { Conditions, MapOf, NonEmpty, Obj, StrMap } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const EndpointObject = Obj({
  numEndpoints: Type.Integer({ minimum: 0, default: 0 }),
  exposedToCluster: Type.Boolean({ default: false }),
});
export const EndpointsSpec = Obj({
  selector: StrMap({ default: {} }),
  endpoints: MapOf(EndpointObject, { default: {}, description: 'cluster -> endpoints there' }),
  primaryCluster: Type.Optional(NonEmpty()),
});
export const EndpointsStatus = Obj({ conditions: Conditions() }, { default: {} });
export const EndpointsSchema = Envelope('Endpoints', true, EndpointsSpec, EndpointsStatus);
export type EndpointsSpec = Type.Static<typeof EndpointsSpec>;
export type Endpoints = Type.Static<typeof EndpointsSchema>;

export const endpointsKind: KindDef = {
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  schema: EndpointsSchema,
  status: EndpointsStatus,
};
