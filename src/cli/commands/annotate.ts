/** `skyctl annotate KIND NAME k=v [k2-] [--overwrite]`: label's rules, on metadata.annotations. */
import type { Command } from 'commander';
import type { Io } from '../runtime.js';
import { registerMetaCommand } from './label.js';

export function registerAnnotate(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  registerMetaCommand(program, io, addGlobals, 'annotations');
}
