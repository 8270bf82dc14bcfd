import type { Command } from 'commander';
import { ApiError, type KindName } from '../../client/core.js';
import { readManifests } from '../manifests.js';
import { DRY_RUN_HELP, dryRunSuffix, parseDryRun, parseObjectArgs, type DryRun } from '../resource-args.js';
import { ReportedFailure, UsageError, connect, kindOrFail, optionsOf, singularOf, type Io, type Session } from '../runtime.js';
import { collect } from './flags.js';

interface Target {
  info: KindName;
  name: string;
  namespace?: string;
}

export function registerDelete(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('delete')
      .description('Delete objects by kind and name, KIND/NAME, label selector, --all, or those in manifests')
      .argument('[args...]', 'KIND NAME..., KIND/NAME..., or KIND with -l/--all')
      .option('-f, --filename <path>', 'delete the objects described in a file, directory or - (repeatable)', collect)
      .option('-l, --selector <selector>', 'delete every object of KIND whose labels match, e.g. app=web')
      .option('--all', 'delete every object of KIND in the namespace (with -A: in every namespace)')
      .option('--dry-run [strategy]', DRY_RUN_HELP)
      .addHelpText(
        'after',
        `
Examples:
  skyctl delete job hello
  skyctl delete job/hello cluster/gpu-a
  skyctl get jobs -o name | xargs skyctl delete
  skyctl delete jobs -l team=ml
  skyctl delete jobs --all -A
  skyctl delete -f job.yaml --dry-run=server`,
      ),
  ).action(async (args: string[], _o: unknown, cmd: Command) => {
    const opts = optionsOf(cmd);
    const dryRun = parseDryRun(opts.dryRun);
    const files = opts.filename as string[] | undefined;
    const selector = opts.selector as string | undefined;
    const all = opts.all === true;
    const session = connect(cmd, io);
    let targets: Target[];
    if (files) {
      if (args.length > 0 || selector !== undefined || all) throw new UsageError('give either KIND NAME, KIND -l/--all, or -f FILE, not several');
      targets = (await readManifests(files, io.stdin)).map((m) => {
        const meta = m.object.metadata as Record<string, unknown>;
        return {
          info: kindOrFail(String(m.object.kind)),
          name: String(meta.name),
          ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
        };
      });
    } else if (selector !== undefined || all) {
      if (selector !== undefined && all) throw new UsageError('give either -l SELECTOR or --all, not both');
      const parsed = parseObjectArgs(args);
      if (!parsed.kind || parsed.refs.length > 0)
        throw new UsageError(`${all ? '--all' : '-l'} takes a kind and no names, e.g. skyctl delete jobs ${all ? '--all' : '-l app=web'}`);
      targets = await listed(io, session, parsed.kind, selector);
      if (targets.length === 0) {
        io.stderr.write('No resources found\n');
        return;
      }
    } else {
      if (args.length === 0) throw new UsageError('you must specify the kind of object to delete, e.g. skyctl delete job hello (or job/hello)');
      const parsed = parseObjectArgs(args);
      if (parsed.refs.length === 0) throw new UsageError(`you must specify the name of the ${args[0]} to delete (or -l SELECTOR, or --all)`);
      targets = parsed.refs.map((r) => ({ info: r.kind, name: r.name }));
    }
    await deleteAll(io, session, targets, dryRun);
  });
}

async function listed(io: Io, s: Session, kind: KindName, selector: string | undefined): Promise<Target[]> {
  const allNamespaces = kind.namespaced && s.allNamespaces;
  const list = await s.client.list(kind, {
    namespace: kind.namespaced ? s.namespace : undefined,
    allNamespaces,
    labelSelector: selector,
    signal: io.signal,
  });
  return list.items.map((o) => ({ info: kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }));
}

async function deleteAll(io: Io, s: Session, targets: Target[], dryRun: DryRun): Promise<void> {
  let failed = 0;
  for (const t of targets) {
    const namespace = t.info.namespaced ? (t.namespace ?? s.namespace) : undefined;
    try {
      if (dryRun !== 'client') await s.client.delete(t.info, t.name, { namespace, signal: io.signal, dryRun: dryRun === 'server' });
      io.stdout.write(`${singularOf(t.info)} "${t.name}" deleted${dryRunSuffix(dryRun)}\n`);
    } catch (err) {
      if (!(err instanceof ApiError) || targets.length === 1) throw err;
      failed++;
      io.stderr.write(`Error from server (${err.reason}): ${err.message}\n`);
    }
  }
  if (failed > 0) throw new ReportedFailure(`${failed} deletions failed`);
}
