/**
 * FilterPolicy: jobs whose labels contain `labelsSelector` may only run on
 * clusters in `clusterFilter.include` (all, if empty) and not in `exclude`.
 */
import Type from 'typebox';
import { isLabelKey, isLabelValue, LABEL_KEY_RULE, LABEL_VALUE_RULE } from '../labels.js';
import { Conditions, Enum, NonEmpty, Obj, StrMap } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const ClusterFilter = Obj(
  {
    include: Type.Array(NonEmpty(), { default: [] }),
    exclude: Type.Array(NonEmpty(), { default: [] }),
  },
  { default: {} },
);
export const FilterPolicySpec = Obj(
  {
    clusterFilter: ClusterFilter,
    labelsSelector: StrMap({ default: {}, description: 'job labels the policy applies to; empty: every job' }),
  },
  { default: {} },
);
export const FilterPolicyStatus = Obj({ phase: Enum(['ACTIVE'], { default: 'ACTIVE' }), conditions: Conditions() }, { default: {} });
export const FilterPolicySchema = Envelope('FilterPolicy', true, FilterPolicySpec, FilterPolicyStatus);
export type FilterPolicySpec = Type.Static<typeof FilterPolicySpec>;
export type FilterPolicy = Type.Static<typeof FilterPolicySchema>;

export const filterPolicyKind: KindDef = {
  kind: 'FilterPolicy',
  plural: 'filterpolicies',
  singular: 'filterpolicy',
  shortNames: ['fp'],
  namespaced: true,
  schema: FilterPolicySchema,
  status: FilterPolicyStatus,
  check(obj, causes) {
    const sel = obj.spec?.labelsSelector;
    if (!sel || typeof sel !== 'object') return;
    for (const [k, v] of Object.entries(sel)) {
      if (!isLabelKey(k)) causes.push({ field: `spec.labelsSelector.${k}`, message: LABEL_KEY_RULE });
      else if (typeof v === 'string' && !isLabelValue(v)) causes.push({ field: `spec.labelsSelector.${k}`, message: LABEL_VALUE_RULE });
    }
  },
};
