/**
 * `skyctl create role`. Its --namespace is the role's (repeatable) namespace
 * list, not the request namespace: roles are global objects, so this leaf
 * takes only --server from the global flags.
 */
import { Option, type Command } from 'commander';
import { configPath, loadConfig, resolveConnection } from '../config.js';
import { UsageError, connect, globalsOf, type Io } from '../runtime.js';
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
    // The original SkyShift's short flags (-n -r -a -u, and --users) work too.
    .option('-n, --namespace <ns>', "namespace the role applies in, or '*' for all and for global kinds (repeatable)", collect)
    .option('-r, --resource <plural>', "resource such as jobs, jobs/status, clusters, or '*' (repeatable)", collect)
    .option('-a, --action <action>', `one of ${ACTIONS.join(', ')} (repeatable)`, collect)
    .option('-u, --user <user>', 'user holding the role (repeatable)', collect)
    .addOption(new Option('--users <user>', 'the original SkyShift spelling of --user').hideHelp().argParser(collect))
    .option('--server <url>', 'API server URL (overrides SKYSHIFT_SERVER and the context)')
    .addHelpText(
      'after',
      `
Examples:
  skyctl create role dev-role --namespace team-a --resource jobs --action '*' --user reader1
  skyctl create role viewer --namespace '*' --resource '*' --action get --action list --action watch
  skyctl create role ops -n '*' -r jobs -r clusters -a get -a list -u alice`,
    )
    .action(
      async (
        name: string,
        opts: { namespace?: string[]; resource?: string[]; action?: string[]; user?: string[]; users?: string[]; server?: string },
        cmd: Command,
      ) => {
        if (!opts.resource?.length || !opts.action?.length) throw new UsageError('create role needs at least one --resource and one --action');
        const bad = opts.action.filter((a) => !ACTIONS.includes(a));
        if (bad.length) throw new UsageError(`unknown action(s) ${bad.join(', ')}: allowed ${ACTIONS.join(', ')}`);
        // The global --server/--context given before the verb count too (`skyctl --server URL create role ...`); -n here is the role's.
        const { server, context } = globalsOf(cmd);
        const globals = { ...(server ? { server } : {}), ...(opts.server ? { server: opts.server } : {}), ...(context ? { context } : {}) };
        // Validate the context early with the same rules as every other command.
        resolveConnection(loadConfig(configPath(io.home)), globals, io.env);
        const body = {
          kind: 'Role',
          metadata: { name },
          spec: {
            namespaces: opts.namespace ?? ['default'],
            users: [...(opts.user ?? []), ...(opts.users ?? [])],
            rules: [{ resources: opts.resource, actions: opts.action }],
          },
        };
        await sendCreate(io, connect(cmd, io, globals), 'role', body);
      },
    );
}
