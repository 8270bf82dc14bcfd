/**
 * Label selectors in the Kubernetes text form: `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
 * Parsed once per request, then matched against many objects, so matching is a
 * plain loop over requirements with no allocation.
 */
import { ApiError } from './errors.js';
import { isLabelKey, isLabelValue } from './labels.js';

export type SelectorOperator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export interface Requirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}
/** All requirements must hold (AND). Empty selector matches everything. */
export type LabelSelector = Requirement[];

function fail(text: string, why: string): never {
  throw new ApiError('BadRequest', `invalid label selector "${text}": ${why}`);
}

/** Split on commas that are not inside a `( ... )` value list. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') {
      if (depth > 0) fail(text, `nested '(' at position ${i + 1}`);
      depth++;
    } else if (c === ')') {
      if (depth === 0) fail(text, `unexpected ')' at position ${i + 1}`);
      depth--;
    } else if (c === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth > 0) fail(text, "missing ')'");
  terms.push(text.slice(start));
  return terms;
}

function checkKey(text: string, key: string): string {
  if (key === '') fail(text, 'missing label key');
  if (!isLabelKey(key)) fail(text, `invalid label key "${key}"`);
  return key;
}

function checkValue(text: string, value: string): string {
  if (!isLabelValue(value)) fail(text, `invalid label value "${value}"`);
  return value;
}

const SET_TERM = /^(\S+)\s+(in|notin)\s*\((.*)\)$/s;
const SET_TERM_OPEN = /^(\S+)\s+(in|notin)\b/;

function parseTerm(text: string, raw: string): Requirement {
  const term = raw.trim();
  if (term === '') fail(text, 'empty requirement');
  const set = SET_TERM.exec(term);
  if (set) {
    const key = checkKey(text, set[1] ?? '');
    const values = (set[3] ?? '').split(',').map((v) => checkValue(text, v.trim()));
    if (values.length === 1 && values[0] === '') fail(text, `"${term}": empty value list`);
    return { key, operator: set[2] === 'in' ? 'In' : 'NotIn', values };
  }
  if (SET_TERM_OPEN.test(term)) fail(text, `"${term}": expected a value list like (x,y)`);
  const op = /(==|!=|=)/.exec(term);
  if (op) {
    const key = term.slice(0, op.index).trim();
    const value = term.slice(op.index + op[0].length).trim();
    if (/[=!]/.test(value)) fail(text, `"${term}": unexpected operator in value`);
    checkKey(text, key);
    checkValue(text, value);
    return { key, operator: op[1] === '!=' ? 'NotEquals' : 'Equals', values: [value] };
  }
  if (term.startsWith('!')) {
    return { key: checkKey(text, term.slice(1).trim()), operator: 'DoesNotExist', values: [] };
  }
  if (/\s/.test(term)) fail(text, `"${term}": expected an operator (=, ==, !=, in, notin)`);
  return { key: checkKey(text, term), operator: 'Exists', values: [] };
}

/** Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h`. Throws ApiError('BadRequest') naming the problem. */
export function parseLabelSelector(text: string): LabelSelector {
  if (text.trim() === '') return [];
  return splitTerms(text).map((t) => parseTerm(text, t));
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const r of selector) {
    const v = labels?.[r.key];
    switch (r.operator) {
      case 'Equals':
        if (v !== r.values[0]) return false;
        break;
      case 'NotEquals':
        // Kubernetes semantics: a missing label satisfies `!=`.
        if (v === r.values[0]) return false;
        break;
      case 'In':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'NotIn':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'Exists':
        if (v === undefined) return false;
        break;
      case 'DoesNotExist':
        if (v !== undefined) return false;
        break;
    }
  }
  return true;
}

/** The canonical text form; parseLabelSelector(formatLabelSelector(s)) deep-equals s. */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0] ?? ''}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0] ?? ''}`;
        case 'In':
          return `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
      return '';
    })
    .join(',');
}

/** A selector that requires every label of the map (FilterPolicy labelsSelector, Service selector). */
export function selectorFromMap(map: Record<string, string>): LabelSelector {
  return Object.entries(map).map(([key, value]) => ({ key, operator: 'Equals' as const, values: [value] }));
}
