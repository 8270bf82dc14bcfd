/**
 * Label and field selectors of the FAKE Kubernetes API server, parsed with the real grammar:
 * labels `a=b,a==b,a!=b,a in (x,y),a notin (x),a,!a,a>1,a<2`; fields `f=v,f==v,f!=v` on the fields each resource supports.
 */
import { badRequest } from './status.js';
import type { KubeObject } from './types.js';

type LabelOp = 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}
export type LabelSelector = LabelRequirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Splits at commas outside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function checkKey(key: string, sel: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${sel}"`);
  return key;
}
function checkValue(v: string, sel: string): string {
  if (!VALUE.test(v) || v.length > 63) throw badRequest(`unable to parse requirement: invalid label value "${v}" in selector "${sel}"`);
  return v;
}

export function parseLabelSelector(sel: string | null | undefined): LabelSelector {
  if (!sel || !sel.trim()) return [];
  if (sel.length > 4096) throw badRequest('labelSelector too long');
  const reqs: LabelRequirement[] = [];
  for (const raw of splitTerms(sel)) {
    const term = raw.trim();
    if (!term) throw badRequest(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = /^!\s*(\S+)$/.exec(term))) reqs.push({ key: checkKey(m[1]!, sel), op: '!', values: [] });
    else if ((m = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term))) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim(), sel));
      reqs.push({ key: checkKey(m[1]!, sel), op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      const op = m[2] === '!=' ? 'notin' : 'in';
      reqs.push({ key: checkKey(m[1]!, sel), op, values: [checkValue(m[3]!, sel)] });
    } else if ((m = /^([^=!<>\s]+)\s*([<>])\s*(-?\d+)$/.exec(term))) {
      reqs.push({ key: checkKey(m[1]!, sel), op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]!] });
    } else if (/^[^=!<>\s()]+$/.test(term)) reqs.push({ key: checkKey(term, sel), op: 'exists', values: [] });
    else throw badRequest(`unable to parse requirement: found '${term}', expected: identifier or operator in selector "${sel}"`);
  }
  return reqs;
}

export function matchLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'gt':
        return has && /^-?\d+$/.test(v!) && Number(v) > Number(r.values[0]);
      case 'lt':
        return has && /^-?\d+$/.test(v!) && Number(v) < Number(r.values[0]);
    }
  });
}

interface FieldRequirement {
  field: string;
  negate: boolean;
  value: string;
}
export type FieldSelector = FieldRequirement[];

/** Fields each resource can be selected by (beyond metadata.name and metadata.namespace), as the real server allows. */
const FIELDS: Record<string, string[]> = {
  pods: [
    'spec.nodeName',
    'status.phase',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.podIP',
    'status.nominatedNodeName',
    'spec.hostNetwork',
  ],
  nodes: ['spec.unschedulable'],
  events: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid', 'reason', 'type', 'source'],
  namespaces: ['status.phase'],
  secrets: ['type'],
};

export function parseFieldSelector(sel: string | null | undefined, resource: string): FieldSelector {
  if (!sel || !sel.trim()) return [];
  if (sel.length > 4096) throw badRequest('fieldSelector too long');
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELDS[resource] ?? [])]);
  return sel.split(',').map((raw) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${raw}'`);
    if (!allowed.has(m[1]!)) throw badRequest(`field label not supported: ${m[1]}`);
    return { field: m[1]!, negate: m[2] === '!=', value: m[3]! };
  });
}

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[part] : undefined;
  if (cur === undefined || cur === null) return path === 'spec.unschedulable' || path === 'spec.hostNetwork' ? 'false' : '';
  return String(cur);
}

export function matchFields(selector: FieldSelector, obj: KubeObject): boolean {
  return selector.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}
