/** `skyctl patch KIND NAME -p PATCH [--type merge|json]`: a JSON merge patch (default) or a JSON patch. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import type { ApiObject, KindName } from '../../client/core.js';
import { parseObjectArgs, type ObjectRef } from '../resource-args.js';
import { UsageError, connect, kindOrFail, optionsOf, singularOf, type Io, type Session } from '../runtime.js';

/** One object named as `KIND NAME` or `kind/name`; returns the rest of the arguments. */
export function objectTarget(kindArg: string, rest: string[], verb: string): { kind: KindName; name: string; rest: string[] } {
  if (kindArg.includes('/')) {
    const ref = parseObjectArgs([kindArg]).refs[0] as ObjectRef;
    return { kind: ref.kind, name: ref.name, rest };
  }
  const [name, ...more] = rest;
  if (!name) throw new UsageError(`you must specify the name of the ${kindArg} to ${verb}, e.g. skyctl ${verb} ${kindArg} NAME`);
  return { kind: kindOrFail(kindArg), name, rest: more };
}

export function namespaceFor(kind: KindName, s: Session): string | undefined {
  return kind.namespaced ? s.namespace : undefined;
}

function parsePatch(text: string): unknown {
  try {
    return YAML.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`the patch is not valid JSON or YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

export function registerPatch(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('patch')
      .description('Update fields of an object with a JSON merge patch (default) or a JSON patch')
      .argument('<kind>', 'kind, or kind/name')
      .argument('[name]')
      .option('-p, --patch <patch>', 'the patch, JSON or YAML')
      .option('--patch-file <path>', 'read the patch from a file')
      .option('--type <type>', 'merge (RFC 7386) or json (RFC 6902)', 'merge')
      .addHelpText(
        'after',
        `
Examples:
  skyctl patch job hello -p '{"metadata":{"labels":{"team":"ml"}}}'
  skyctl patch job/hello --type json -p '[{"op":"replace","path":"/spec/replicas","value":2}]'`,
      ),
  ).action(async (kindArg: string, nameArg: string | undefined, _o: unknown, cmd: Command) => {
    const opts = optionsOf(cmd);
    const { kind, name, rest } = objectTarget(kindArg, nameArg === undefined ? [] : [nameArg], 'patch');
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const type = String(opts.type);
    if (type !== 'merge' && type !== 'json') throw new UsageError(`--type must be merge or json, got "${type}"`);
    const text = typeof opts.patch === 'string' ? opts.patch : typeof opts.patchFile === 'string' ? readFileSync(opts.patchFile, 'utf8') : undefined;
    if (text === undefined) throw new UsageError('give the patch with -p PATCH or --patch-file FILE');
    const patch = parsePatch(text);
    if (type === 'json' && !Array.isArray(patch))
      throw new UsageError('a JSON patch (--type json) is a list of operations, e.g. [{"op":"replace","path":"/spec/replicas","value":2}]');
    if (type === 'merge' && (patch === null || typeof patch !== 'object' || Array.isArray(patch))) {
      throw new UsageError('a merge patch is an object, e.g. {"spec":{"replicas":2}} (a list of operations needs --type json)');
    }
    const s = connect(cmd, io);
    const namespace = namespaceFor(kind, s);
    const before = await s.client.get<ApiObject>(kind, name, { namespace, signal: io.signal });
    const after = await s.client.patch<ApiObject>(kind, name, patch, { namespace, signal: io.signal, type });
    const same = before.metadata.resourceVersion === after.metadata.resourceVersion;
    io.stdout.write(`${singularOf(kind)}/${name} patched${same ? ' (no change)' : ''}\n`);
  });
}
