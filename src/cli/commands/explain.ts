/** `skyctl explain KIND[.field.path] [--recursive]`: the fields of a kind, from the API's own schemas. */
import type { Command } from 'commander';
import { KIND_NAMES } from '../../client/core.js';
import type { KindInfo } from '../../client/index.js';
import { UsageError, kindOrFail, type Io } from '../runtime.js';

type Schema = Record<string, unknown> & {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  anyOf?: Schema[];
  default?: unknown;
};

/** Used when a kind's schema carries no description of its own (DESIGN section 3). */
const PURPOSE: Record<string, string> = {
  Cluster: 'A registered cluster: manager type, connection config, labels; status = phase, capacity, allocatable per node.',
  Namespace: 'Isolation unit for namespaced objects; "default" always exists.',
  Job: 'Replicas of a command or image with per-replica resources and a placement.',
  FilterPolicy: 'Governance: jobs whose labels match may only use the included, non-excluded clusters.',
  Service: "A stable endpoint load-balancing over a job's replicas in all clusters.",
  Endpoints: 'Per-cluster endpoint counts of a service (written by controllers).',
  Link: 'A network link between two clusters.',
  Event: 'What happened to an object (Scheduled, FailedScheduling, Submitted, Evicted, ...).',
  Role: 'Access control: what a user may do.',
  User: 'Access control: a user and their roles.',
  Lease: 'Leader election among controller managers.',
};

/** The envelope's fields, whose schemas say nothing of their own. */
const ENVELOPE: Record<string, string> = {
  kind: 'The kind of the object.',
  apiVersion: 'Accepted and ignored (there is one API version).',
  metadata: 'Name, namespace, labels, annotations, and what the server sets: uid, resourceVersion, generation, creationTimestamp.',
  spec: 'What the user wants; written by users.',
  status: 'What is; written by the controllers (a plain PUT never changes it).',
};

/** Arrays and maps are looked through to the object (or value) they hold. */
function inner(s: Schema): Schema {
  if (s.type === 'array' && s.items) return inner(s.items);
  if (s.type === 'object' && !s.properties && s.patternProperties) {
    const value = Object.values(s.patternProperties)[0];
    if (value) return inner(value);
  }
  return s;
}

export function typeName(s: Schema): string {
  if (s.anyOf) return s.anyOf.map(typeName).join(' | ');
  if (s.enum) return 'string';
  if (s.type === 'array') return `[]${s.items ? typeName(s.items) : 'Object'}`;
  if (s.type === 'object') {
    const value = s.patternProperties ? Object.values(s.patternProperties)[0] : undefined;
    if (!s.properties && value) return `map[string]${typeName(value)}`;
    return 'Object';
  }
  return s.type ?? (Object.keys(s).length === 0 ? 'any' : 'Object');
}

function describeField(s: Schema, top?: string): string {
  const parts: string[] = [];
  if (!s.description && top && ENVELOPE[top]) parts.push(ENVELOPE[top]);
  if (s.description) parts.push(/[.!?]$/.test(s.description) ? s.description : `${s.description}.`);
  if (s.enum) parts.push(`Allowed values: ${s.enum.map(String).join(', ')}.`);
  if (s.default !== undefined && !(typeof s.default === 'object' && Object.keys(s.default as object).length === 0)) {
    parts.push(`Default: ${JSON.stringify(s.default)}.`);
  }
  return parts.join(' ');
}

function isRequired(parent: Schema, key: string): boolean {
  const child = parent.properties?.[key];
  return (parent.required ?? []).includes(key) && child?.default === undefined;
}

function childLines(s: Schema, depth: number, recursive: boolean, seen: number): string[] {
  const obj = inner(s);
  const lines: string[] = [];
  for (const [key, child] of Object.entries(obj.properties ?? {})) {
    const pad = '  '.repeat(depth + 1);
    lines.push(`${pad}${key}\t<${typeName(child)}>${isRequired(obj, key) ? ' -required-' : ''}`);
    if (recursive) {
      if (seen < 12) lines.push(...childLines(child, depth + 1, true, seen + 1));
    } else {
      const text = describeField(child, depth === 0 && obj === s ? key : undefined);
      if (text) lines.push(`${pad}  ${text}`);
      lines.push('');
    }
  }
  return lines;
}

export function explain(kind: KindInfo, path: string[], recursive = false): string {
  let schema = kind.schema as Schema;
  for (let i = 0; i < path.length; i++) {
    const key = path[i] as string;
    const next = inner(schema).properties?.[key];
    if (!next) throw new UsageError(`field "${key}" does not exist in ${[kind.singular, ...path.slice(0, i)].join('.')}`);
    schema = next;
  }
  const description = path.length === 0 ? (schema.description ?? PURPOSE[kind.kind] ?? '') : describeField(schema, path.length === 1 ? path[0] : undefined);
  let out = `KIND:     ${kind.kind}\n`;
  if (path.length) out += `FIELD:    ${path.join('.')} <${typeName(schema)}>\n`;
  out += `\nDESCRIPTION:\n    ${description || '<empty>'}\n`;
  const children = childLines(schema, 0, recursive, 0);
  if (children.length) out += `\nFIELDS:\n${children.join('\n').trimEnd()}\n`;
  return out;
}

export function registerExplain(program: Command, io: Io): void {
  program
    .command('explain')
    .description('Show the fields of a kind, or of one field, with their types and meaning')
    .argument('<kind[.field.path]>', 'e.g. job, job.spec, job.spec.placement.filters')
    .option('--recursive', 'print every field below, as a tree')
    .addHelpText(
      'after',
      `
Examples:
  skyctl explain job
  skyctl explain job.spec.resources
  skyctl explain cluster.spec --recursive

Kinds: ${KIND_NAMES.map((k) => k.singular).join(', ')}`,
    )
    .action(async (target: string, opts: { recursive?: boolean }) => {
      const [kindName = '', ...path] = target.split('.');
      const name = kindOrFail(kindName).plural;
      // The schemas load only here: they cost every other command ~200 ms of start-up.
      const { kindForPlural } = await import('../../client/index.js');
      io.stdout.write(explain(kindForPlural(name) as KindInfo, path, opts.recursive === true));
    });
}
