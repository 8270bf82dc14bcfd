// PLACEHOLDER: replaced by the api module. Signatures are the contract.
import { ApiError } from './errors.js';

export type SelectorOperator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export interface Requirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}
/** All requirements must hold (AND). Empty selector matches everything. */
export type LabelSelector = Requirement[];

/** Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h`. Throws ApiError('BadRequest') naming the problem. */
export function parseLabelSelector(text: string): LabelSelector {
  throw new ApiError('InternalError', `not implemented: ${text}`);
}
export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  void labels;
  return selector.length === 0;
}
