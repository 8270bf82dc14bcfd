/** Link: a (bidirectional) network link between two clusters. */
import Type from 'typebox';
import { Enum, NonEmpty, Obj } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const LinkSpec = Obj({ sourceCluster: NonEmpty(), targetCluster: NonEmpty() });
export const LinkStatus = Obj({ phase: Enum(['INIT', 'ACTIVE', 'FAILED'], { default: 'INIT' }), message: Type.Optional(Type.String()) }, { default: {} });
export const LinkSchema = Envelope('Link', false, LinkSpec, LinkStatus);
export type LinkSpec = Type.Static<typeof LinkSpec>;
export type Link = Type.Static<typeof LinkSchema>;

export const linkKind: KindDef = {
  kind: 'Link',
  plural: 'links',
  singular: 'link',
  shortNames: [],
  namespaced: false,
  schema: LinkSchema,
  status: LinkStatus,
  check(obj, causes) {
    const s = obj.spec;
    if (s && typeof s.sourceCluster === 'string' && s.sourceCluster !== '' && s.sourceCluster === s.targetCluster) {
      causes.push({ field: 'spec.targetCluster', message: 'must differ from spec.sourceCluster' });
    }
  },
};
