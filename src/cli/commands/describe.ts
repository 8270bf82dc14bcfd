import type { Command } from 'commander';
import YAML from 'yaml';
import { ApiError, type ApiObject, type KindName } from '../../client/core.js';
import { formatAge, formatLabels, printColumns } from '../printers/index.js';
import { TASK_COLUMNS, taskRows } from '../../api/tasks.js';
import { parseObjectArgs } from '../resource-args.js';
import { UsageError, connect, type Io, type Session } from '../runtime.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

function indent(text: string, by = '  '): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

function block(title: string, value: unknown): string {
  const body = rec(value);
  if (Object.keys(body).length === 0) return `${title}:\t<none>\n`;
  return `${title}:\n${indent(YAML.stringify(body))}\n`;
}

/** The message that says why a PENDING job waits (the scheduler's condition). */
export function pendingReason(obj: ApiObject): string | undefined {
  const status = rec(obj.status);
  if (str(status.phase) !== 'PENDING') return undefined;
  const conds = (Array.isArray(status.conditions) ? status.conditions : []).map(rec).filter((c) => str(c.message));
  const preferred = conds.filter((c) => /pend|sched/i.test(str(c.type) + str(c.reason)));
  const pick = preferred[preferred.length - 1] ?? conds[conds.length - 1];
  return pick ? str(pick.message) : undefined;
}

export function renderDescribe(kind: KindName, obj: ApiObject, events: ApiObject[], now = new Date()): string {
  const m = obj.metadata;
  const lines: string[] = [];
  const field = (k: string, v: string) => lines.push(`${(k + ':').padEnd(20)}${v}`);
  field('Name', m.name);
  if (kind.namespaced) field('Namespace', m.namespace ?? '');
  field('Kind', obj.kind || kind.kind);
  field('Labels', formatLabels(m.labels));
  field('Annotations', formatLabels(m.annotations));
  field('UID', m.uid ?? '');
  field('Resource Version', m.resourceVersion ?? '');
  if (m.generation !== undefined) field('Generation', String(m.generation));
  field('Created', m.creationTimestamp ? `${m.creationTimestamp} (${formatAge(m.creationTimestamp, now)} ago)` : '<unknown>');
  let out = lines.join('\n') + '\n';
  out += block('Spec', obj.spec);
  const { conditions, ...statusRest } = rec(obj.status);
  out += block('Status', statusRest);
  const why = pendingReason(obj);
  if (why) out += `Pending:\n${indent(why)}\n`;
  const tasks = taskRows(obj.status);
  if (tasks.length) out += `Tasks:\n${indent(printColumns([...TASK_COLUMNS], tasks))}\n`;
  const conds = (Array.isArray(conditions) ? conditions : []).map(rec);
  if (conds.length) {
    const rows = conds.map((c) => [str(c.type), str(c.status), str(c.reason), str(c.lastTransitionTime), str(c.message)]);
    out += `Conditions:\n${indent(printColumns(['TYPE', 'STATUS', 'REASON', 'LAST TRANSITION', 'MESSAGE'], rows))}\n`;
  } else out += 'Conditions:\t<none>\n';
  if (events.length) {
    const rows = events.map((e) => {
      const s = rec(e.spec);
      const count = typeof s.count === 'number' && s.count > 1 ? ` (x${s.count})` : '';
      return [str(s.type) || 'Normal', str(s.reason), formatAge(str(s.lastTimestamp) || e.metadata.creationTimestamp, now) + count, str(s.message)];
    });
    out += `Events:\n${indent(printColumns(['TYPE', 'REASON', 'AGE', 'MESSAGE'], rows))}\n`;
  } else out += 'Events:\t<none>\n';
  return out;
}

/** Events are a best-effort extra: a server without them must not break describe. */
async function eventsFor(s: Session, kind: KindName, obj: ApiObject, signal: AbortSignal): Promise<ApiObject[]> {
  try {
    const ns = kind.namespaced ? obj.metadata.namespace : undefined;
    const list = await s.client.list('events', ns ? { namespace: ns, signal } : { allNamespaces: true, signal });
    return list.items
      .filter((e) => {
        const inv = rec(rec(e.spec).involvedObject);
        if (inv.uid && obj.metadata.uid) return inv.uid === obj.metadata.uid;
        return str(inv.kind) === (obj.kind || kind.kind) && str(inv.name) === obj.metadata.name && (!ns || !inv.namespace || inv.namespace === ns);
      })
      .sort(
        (a, b) =>
          Date.parse(str(rec(a.spec).lastTimestamp) || a.metadata.creationTimestamp || '') -
          Date.parse(str(rec(b.spec).lastTimestamp) || b.metadata.creationTimestamp || ''),
      );
  } catch (err) {
    if (err instanceof ApiError) return [];
    throw err;
  }
}

export function registerDescribe(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('describe')
      .description('Show one object in detail: spec, status, conditions, events, why pending')
      .argument('<kind>', 'KIND, or KIND/NAME')
      .argument('[names...]')
      .addHelpText(
        'after',
        `
Examples:
  skyctl describe job hello
  skyctl describe job/hello
  skyctl describe cluster gpu-a`,
      ),
  ).action(async (kindArg: string, names: string[], _o: unknown, cmd: Command) => {
    const { refs } = parseObjectArgs([kindArg, ...names]);
    if (refs.length === 0) throw new UsageError(`you must specify the name of the ${kindArg} to describe (or ${kindArg}/NAME)`);
    const s = connect(cmd, io);
    for (const [i, { kind, name }] of refs.entries()) {
      const obj = await s.client.get(kind, name, { namespace: kind.namespaced ? s.namespace : undefined, signal: io.signal });
      const events = await eventsFor(s, kind, obj, io.signal);
      io.stdout.write((i > 0 ? '\n\n' : '') + renderDescribe(kind, obj, events));
    }
  });
}
