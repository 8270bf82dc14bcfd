/** Namespace: the isolation unit of namespaced objects; `default` always exists. */
import type Type from 'typebox';
import { Enum, Obj } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const NamespaceSpec = Obj({}, { default: {} });
export const NamespaceStatus = Obj({ phase: Enum(['ACTIVE', 'DELETING'], { default: 'ACTIVE' }) }, { default: {} });
export const NamespaceSchema = Envelope('Namespace', false, NamespaceSpec, NamespaceStatus);
export type Namespace = Type.Static<typeof NamespaceSchema>;

export const namespaceKind: KindDef = {
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  schema: NamespaceSchema,
  status: NamespaceStatus,
};
