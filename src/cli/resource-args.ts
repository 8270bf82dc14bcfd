/**
 * Positional arguments naming objects, as kubectl takes them: `KIND NAME...`
 * or `KIND/NAME...` (what `-o name` prints, so `get -o name | xargs delete`
 * works), and the `--dry-run` flag shared by create, apply and delete.
 */
import type { KindName } from '../client/core.js';
import { UsageError, kindOrFail } from './runtime.js';

export interface ObjectRef {
  kind: KindName;
  name: string;
}

/**
 * `[job, a, b]` or `[job/a, cluster/b]`. Returns the kind alone when no name
 * is given (`[jobs]`), so list commands can tell the two apart.
 */
export function parseObjectArgs(args: readonly string[]): { kind?: KindName; refs: ObjectRef[] } {
  const first = args[0];
  if (first === undefined) return { refs: [] };
  if (!first.includes('/')) {
    const kind = kindOrFail(first);
    const names = args.slice(1);
    const slashed = names.find((n) => n.includes('/'));
    if (slashed !== undefined) {
      throw new UsageError(
        `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'skyctl get ${slashed}')`,
      );
    }
    return { kind, refs: names.map((name) => ({ kind, name })) };
  }
  const refs = args.map((arg) => {
    const slash = arg.indexOf('/');
    if (slash < 0) throw new UsageError(`arguments in resource/name form must have a single resource and name: "${arg}"`);
    const name = arg.slice(slash + 1);
    if (name === '' || name.includes('/') || slash === 0)
      throw new UsageError(`arguments in resource/name form must have a single resource and name: "${arg}"`);
    return { kind: kindOrFail(arg.slice(0, slash)), name };
  });
  return { refs };
}

/** A job name for `verb` (logs, exec, port-forward): `hello` or `job/hello`. */
export function jobNameArg(arg: string, verb = 'logs'): string {
  if (!arg.includes('/')) return arg;
  const { refs } = parseObjectArgs([arg]);
  const ref = refs[0] as ObjectRef;
  if (ref.kind.kind !== 'Job') throw new UsageError(`${verb} takes a job, not a ${ref.kind.kind}: "${arg}"`);
  return ref.name;
}

export type DryRun = 'none' | 'client' | 'server';

export const DRY_RUN_HELP = 'client: print what would be sent, send nothing; server: the server validates it and stores nothing';

/** `--dry-run` alone means client, as kubectl's deprecated spelling did. */
export function parseDryRun(value: unknown): DryRun {
  if (value === undefined || value === false || value === 'none') return 'none';
  if (value === true || value === 'client') return 'client';
  if (value === 'server') return 'server';
  throw new UsageError(`invalid --dry-run "${String(value)}": use client, server or none`);
}

/** The suffix kubectl prints after `job/x created`. */
export function dryRunSuffix(mode: DryRun): string {
  return mode === 'client' ? ' (dry run)' : mode === 'server' ? ' (server dry run)' : '';
}
