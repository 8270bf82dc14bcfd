/** The last step of every `create` subcommand: POST (or a dry run of it) and print `kind/name created`. */
import type { Command } from 'commander';
import { renderData } from '../printers/index.js';
import { DRY_RUN_HELP, dryRunSuffix, parseDryRun } from '../resource-args.js';
import { UsageError, kindOrFail, singularOf, type Io, type Session } from '../runtime.js';

/** `--dry-run` and `-o json|yaml|name` on every create subcommand. */
export function addCreateOutputOptions(create: Command): void {
  for (const sub of create.commands) {
    sub.option('--dry-run [strategy]', DRY_RUN_HELP);
    sub.option('-o, --output <format>', 'json|yaml|name: print the object (with --dry-run=client: the one that would be sent)');
  }
}

export async function sendCreate(io: Io, session: Session, kindName: string, body: Record<string, unknown>, opts: Record<string, unknown> = {}): Promise<void> {
  const kind = kindOrFail(kindName);
  const dryRun = parseDryRun(opts.dryRun);
  const output = opts.output as string | undefined;
  if (output !== undefined && !['json', 'yaml', 'name'].includes(output)) throw new UsageError(`create -o takes json, yaml or name, not "${output}"`);
  const meta = body.metadata as Record<string, unknown>;
  if (kind.namespaced) meta.namespace = session.namespace;
  const sent: Record<string, unknown> = { apiVersion: 'v1', ...body };
  const created: Record<string, unknown> =
    dryRun === 'client'
      ? sent
      : await session.client.create(kind, body, { namespace: kind.namespaced ? session.namespace : undefined, signal: io.signal, dryRun: dryRun === 'server' });
  const name = String((created.metadata as Record<string, unknown> | undefined)?.name ?? meta.name);
  if (output === 'json' || output === 'yaml') io.stdout.write(renderData(created, output));
  else if (output === 'name') io.stdout.write(`${singularOf(kind)}/${name}\n`);
  else io.stdout.write(`${singularOf(kind)}/${name} created${dryRunSuffix(dryRun)}\n`);
}
