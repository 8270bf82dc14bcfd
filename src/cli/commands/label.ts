/**
 * `skyctl label|annotate KIND NAME k=v [k2-] [--overwrite]` with kubectl's
 * rules: an existing key keeps its value unless --overwrite; `key-` removes.
 * Sent as a merge patch carrying the resourceVersion the check was made at.
 */
import type { Command } from 'commander';
import { ApiError, type ApiObject } from '../../client/core.js';
import { UsageError, connect, singularOf, type Io } from '../runtime.js';
import { namespaceFor, objectTarget } from './patch.js';

type Field = 'labels' | 'annotations';

interface Change {
  set: Record<string, string>;
  remove: string[];
}

export function parseChanges(args: string[], what: string): Change {
  const change: Change = { set: {}, remove: [] };
  if (args.length === 0) throw new UsageError(`at least one ${what} update is required (KEY=VALUE or KEY-)`);
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) change.set[a.slice(0, eq)] = a.slice(eq + 1);
    else if (a.length > 1 && a.endsWith('-')) change.remove.push(a.slice(0, -1));
    else throw new UsageError(`invalid ${what} update "${a}": use KEY=VALUE to set, KEY- to remove`);
  }
  return change;
}

/** The merge patch for `current`, or an error message when a key would change without --overwrite. */
export function metaPatch(
  current: Record<string, string>,
  change: Change,
  overwrite: boolean,
  what: string,
): { patch: Record<string, string | null>; notFound: string[] } | string {
  const patch: Record<string, string | null> = {};
  const notFound: string[] = [];
  for (const [k, v] of Object.entries(change.set)) {
    if (current[k] === v) continue;
    if (k in current && !overwrite) return `'${k}' already has a value (${current[k]}), and --overwrite is false`;
    patch[k] = v;
  }
  for (const k of change.remove) {
    if (k in current) patch[k] = null;
    else notFound.push(`${what} "${k}" not found.`);
  }
  return { patch, notFound };
}

export function registerMetaCommand(program: Command, io: Io, addGlobals: (c: Command) => Command, field: Field): void {
  const verb = field === 'labels' ? 'label' : 'annotate';
  const what = field === 'labels' ? 'label' : 'annotation';
  const done = field === 'labels' ? 'labeled' : 'annotated';
  const example = field === 'labels' ? 'team=ml' : "owner='Ada Lovelace'";
  addGlobals(
    program
      .command(verb)
      .description(`Add, change or remove ${field} of an object`)
      .argument('<kind>', 'kind, or kind/name')
      .argument('<args...>', 'NAME (unless kind/name), then KEY=VALUE to set and KEY- to remove')
      .option('--overwrite', `allow changing the value of an existing ${what}`)
      .addHelpText(
        'after',
        `
Examples:
  skyctl ${verb} job hello ${example}
  skyctl ${verb} job/hello ${example.replace(/=.*/, '=other')} --overwrite
  skyctl ${verb} job hello ${example.replace(/=.*/, '-')}`,
      ),
  ).action(async (kindArg: string, args: string[], opts: { overwrite?: boolean }, cmd: Command) => {
    const { kind, name, rest } = objectTarget(kindArg, args, verb);
    const change = parseChanges(rest, what);
    const s = connect(cmd, io);
    const namespace = namespaceFor(kind, s);
    for (let attempt = 0; ; attempt++) {
      const obj = await s.client.get<ApiObject>(kind, name, { namespace, signal: io.signal });
      const result = metaPatch(obj.metadata[field] ?? {}, change, opts.overwrite === true, what);
      if (typeof result === 'string') throw new Error(result);
      for (const line of result.notFound) io.stderr.write(line + '\n');
      if (Object.keys(result.patch).length === 0) {
        io.stdout.write(`${singularOf(kind)}/${name} not ${done}\n`);
        return;
      }
      const patch = { metadata: { resourceVersion: obj.metadata.resourceVersion, [field]: result.patch } };
      try {
        await s.client.patch(kind, name, patch, { namespace, signal: io.signal });
      } catch (err) {
        if (err instanceof ApiError && err.reason === 'Conflict' && attempt < 4) continue; // changed meanwhile: check again
        throw err;
      }
      io.stdout.write(`${singularOf(kind)}/${name} ${done}\n`);
      return;
    }
  });
}

export function registerLabel(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  registerMetaCommand(program, io, addGlobals, 'labels');
}
