/**
 * `skyctl create role`. Its --namespace is the role's (repeatable) namespace
 * list, not the request namespace: roles are global objects, so this leaf
 * takes only --server from the global flags.
 */
import type { Command } from 'commander';
import { configPath, loadConfig, resolveConnection } from '../config.js';
import { UsageError, connect, type Io } from '../runtime.js';
import { collect } from './flags.js';
import { sendCreate } from './send.js';

const ACTIONS = ['*', 'create', 'get', 'list', 'watch', 'update', 'patch', 'delete'];

export function registerCreateRole(program: Command, io: Io): void {
  const create = program.commands.find((c) => c.name() === 'create');
  if (!create) throw new Error('skyctl: the create command must be registered before create role');
  create
    .command('role')
    .alias('roles')
    .description('Create a role: actions on resources in namespaces, held by users')
    .argument('<name>')
    .option('--namespace <ns>', "namespace the role applies in, or '*' for all and for global kinds (repeatable)", collect)
    .option('--resource <plural>', "resource such as jobs, jobs/status, clusters, or '*' (repeatable)", collect)
    .option('--action <action>', `one of ${ACTIONS.join(', ')} (repeatable)`, collect)
    .option('--user <user>', 'user holding the role (repeatable)', collect)
    .option('--server <url>', 'API server URL (overrides SKYSHIFT_SERVER and the context)')
    .addHelpText(
      'after',
      `
Examples:
  skyctl create role dev-role --namespace team-a --resource jobs --action '*' --user reader1
  skyctl create role viewer --namespace '*' --resource '*' --action get --action list --action watch`,
    )
    .action(async (name: string, opts: { namespace?: string[]; resource?: string[]; action?: string[]; user?: string[]; server?: string }, cmd: Command) => {
      if (!opts.resource?.length || !opts.action?.length) throw new UsageError('create role needs at least one --resource and one --action');
      const bad = opts.action.filter((a) => !ACTIONS.includes(a));
      if (bad.length) throw new UsageError(`unknown action(s) ${bad.join(', ')}: allowed ${ACTIONS.join(', ')}`);
      const context = (cmd.parent?.parent?.opts() as { context?: string } | undefined)?.context;
      const globals = { ...(opts.server ? { server: opts.server } : {}), ...(context ? { context } : {}) };
      // Validate the context early with the same rules as every other command.
      resolveConnection(loadConfig(configPath(io.home)), globals, io.env);
      const body = {
        kind: 'Role',
        metadata: { name },
        spec: {
          namespaces: opts.namespace ?? ['default'],
          users: opts.user ?? [],
          rules: [{ resources: opts.resource, actions: opts.action }],
        },
      };
      await sendCreate(io, connect(cmd, io, globals), 'role', body);
    });
}
