/** `skyctl invite` and `skyctl revoke-invite`. The token is printed on the last line, alone, for scripts. */
import type { Command } from 'commander';
import { createInvite, revokeInvite } from '../../client/core.js';
import { UsageError, connect, type Io } from '../runtime.js';
import { collect } from './flags.js';

export function registerInviteCommands(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('invite')
      .description('Create a single-use invite granting roles you hold (prints the token on the last line)')
      .option('-r, --role <role>', 'role to grant (repeatable)', collect)
      .option('-o, --output <format>', 'json')
      .addHelpText(
        'after',
        `
Examples:
  skyctl invite --role reader-role
  skyctl invite --role reader-role --role inviter-role -o json`,
      ),
  ).action(async (opts: { role?: string[]; output?: string }, cmd: Command) => {
    if (opts.output !== undefined && opts.output !== 'json') throw new UsageError(`unknown output format "${opts.output}" (allowed: json)`);
    const invite = await createInvite(connect(cmd, io).client, opts.role ?? []);
    if (opts.output === 'json') {
      io.stdout.write(JSON.stringify(invite, null, 2) + '\n');
      return;
    }
    io.stdout.write(`Invite ${invite.id} (roles: ${invite.roles.join(', ') || '<none>'}; expires ${invite.expiresAt}; single use).\n`);
    io.stdout.write(`Register with: skyctl register USER --invite TOKEN\n${invite.token}\n`);
  });

  addGlobals(
    program
      .command('revoke-invite')
      .description('Revoke an invite you created (by token or id)')
      .argument('<token>')
      .addHelpText(
        'after',
        `
Examples:
  skyctl revoke-invite eyJ...`,
      ),
  ).action(async (token: string, _opts: unknown, cmd: Command) => {
    const result = await revokeInvite(connect(cmd, io).client, token);
    io.stdout.write(`invite ${result.id} revoked${result.used ? ' (it had already been used: the user it created remains)' : ''}\n`);
  });
}
