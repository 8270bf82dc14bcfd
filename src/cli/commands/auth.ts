/** The account commands of skyctl, registered in one call from main.ts. */
import type { Command } from 'commander';
import type { Io } from '../runtime.js';
import { registerInviteCommands } from './auth-invites.js';
import { registerCreateRole } from './auth-roles.js';
import { registerSessionCommands } from './auth-session.js';

export function registerAuthCommands(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  registerSessionCommands(program, io, addGlobals);
  registerInviteCommands(program, io, addGlobals);
  registerCreateRole(program, io);
}
