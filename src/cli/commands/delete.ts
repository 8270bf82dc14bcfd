import type { Command } from 'commander';
import { ApiError } from '../../client/index.js';
import { readManifests } from '../manifests.js';
import { ReportedFailure, UsageError, connect, kindOrFail, optionsOf, singularOf, type Io } from '../runtime.js';
import { collect } from './flags.js';

export function registerDelete(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('delete')
      .description('Delete objects by kind and name, or those in manifests')
      .argument('[kind]')
      .argument('[names...]')
      .option('-f, --filename <path>', 'delete the objects described in a file, directory or - (repeatable)', collect)
      .addHelpText(
        'after',
        `
Examples:
  skyctl delete job hello
  skyctl delete cluster gpu-a
  skyctl delete -f job.yaml`,
      ),
  ).action(async (kindName: string | undefined, names: string[], _o: unknown, cmd: Command) => {
    const opts = optionsOf(cmd);
    const files = opts.filename as string[] | undefined;
    const targets: { kind: string; name: string; namespace?: string }[] = [];
    if (files) {
      if (kindName) throw new UsageError('give either KIND NAME or -f FILE, not both');
      for (const m of await readManifests(files, io.stdin)) {
        const meta = m.object.metadata as Record<string, unknown>;
        const t: { kind: string; name: string; namespace?: string } = { kind: String(m.object.kind), name: String(meta.name) };
        if (typeof meta.namespace === 'string') t.namespace = meta.namespace;
        targets.push(t);
      }
    } else {
      if (!kindName) throw new UsageError('you must specify the kind of object to delete, e.g. skyctl delete job hello');
      if (names.length === 0) throw new UsageError(`you must specify the name of the ${kindName} to delete`);
      for (const name of names) targets.push({ kind: kindName, name });
    }
    const resolved = targets.map((t) => ({ ...t, info: kindOrFail(t.kind) }));
    const session = connect(cmd, io);
    let failed = 0;
    for (const t of resolved) {
      const namespace = t.info.namespaced ? (t.namespace ?? session.namespace) : undefined;
      try {
        await session.client.delete(t.info, t.name, { namespace, signal: io.signal });
        io.stdout.write(`${singularOf(t.info)}/${t.name} deleted\n`);
      } catch (err) {
        if (!(err instanceof ApiError) || resolved.length === 1) throw err;
        failed++;
        io.stderr.write(`Error from server (${err.reason}): ${err.message}\n`);
      }
    }
    if (failed > 0) throw new ReportedFailure(`${failed} deletions failed`);
  });
}
