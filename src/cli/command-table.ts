/**
 * Which module registers which verb, loaded on demand. A skyctl run imports
 * only the module of the verb it was given (DESIGN §10, issue 15: start-up
 * under 200 ms), so `skyctl get jobs` never pays for apply's YAML pipeline or
 * explain's schemas. Help, completion and an unknown verb load them all.
 */
import type { Command } from 'commander';
import type { Io } from './runtime.js';

export type AddGlobals = (cmd: Command, options?: { context?: boolean }) => Command;
type Register = (program: Command, io: Io, addGlobals: AddGlobals, version: string) => void;

interface Entry {
  verbs: readonly string[];
  load: () => Promise<Register>;
}

/** In help order. `create` comes with `create role` (the account commands own it) and create.ts's `revoke-agent-tokens`. */
export const COMMANDS: readonly Entry[] = [
  { verbs: ['get'], load: async () => (await import('./commands/get.js')).registerGet },
  { verbs: ['describe'], load: async () => (await import('./commands/describe.js')).registerDescribe },
  {
    verbs: ['create', 'revoke-agent-tokens'],
    load: async () => {
      const [{ registerCreate }, { registerCreateRole }, { registerAgentTokenCommands }] = await Promise.all([
        import('./commands/create.js'),
        import('./commands/auth-roles.js'),
        import('./commands/agent-token.js'),
      ]);
      return (program, io, addGlobals) => {
        registerCreate(program, io, addGlobals);
        registerCreateRole(program, io);
        registerAgentTokenCommands(program, io, addGlobals);
      };
    },
  },
  { verbs: ['apply'], load: async () => (await import('./commands/apply.js')).registerApply },
  { verbs: ['delete'], load: async () => (await import('./commands/delete.js')).registerDelete },
  { verbs: ['logs'], load: async () => (await import('./commands/logs.js')).registerLogs },
  { verbs: ['exec'], load: async () => (await import('./commands/exec.js')).registerExec },
  { verbs: ['port-forward'], load: async () => (await import('./commands/port-forward.js')).registerPortForward },
  { verbs: ['status'], load: async () => (await import('./commands/status.js')).registerStatus },
  { verbs: ['version'], load: async () => (await import('./commands/version.js')).registerVersion },
  { verbs: ['config', 'token'], load: async () => (await import('./commands/config.js')).registerConfig },
  { verbs: ['label'], load: async () => (await import('./commands/label.js')).registerLabel },
  { verbs: ['annotate'], load: async () => (await import('./commands/annotate.js')).registerAnnotate },
  { verbs: ['patch'], load: async () => (await import('./commands/patch.js')).registerPatch },
  { verbs: ['wait'], load: async () => (await import('./commands/wait.js')).registerWait },
  { verbs: ['explain'], load: async () => (await import('./commands/explain.js')).registerExplain },
  { verbs: ['edit'], load: async () => (await import('./commands/edit.js')).registerEdit },
  { verbs: ['completion', '__complete'], load: async () => (await import('./commands/completion.js')).registerCompletion },
  {
    verbs: ['login', 'register', 'whoami', 'invite', 'revoke-invite'],
    load: async () => {
      const [{ registerSessionCommands }, { registerInviteCommands }] = await Promise.all([
        import('./commands/auth-session.js'),
        import('./commands/auth-invites.js'),
      ]);
      return (program, io, addGlobals) => {
        registerSessionCommands(program, io, addGlobals);
        registerInviteCommands(program, io, addGlobals);
      };
    },
  },
];

/** Global options that take a value, so the verb is found after them (`skyctl -n ml get jobs`). */
const VALUED = new Set(['--server', '--context', '-n', '--namespace']);

/** The verb of `argv`: its first word that is neither an option nor an option's value. */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return argv[i + 1];
    if (VALUED.has(a)) i++;
    else if (!a.startsWith('-') || a === '-') return a;
  }
  return undefined;
}

/**
 * The entries `argv` needs: its verb's (also for `help VERB`), none for a bare
 * `--version`, every one for help, completion or a verb skyctl does not know
 * (so commander can list them or suggest the nearest).
 */
export function entriesFor(argv: readonly string[]): readonly Entry[] {
  let verb = verbOf(argv);
  if (verb === 'help') verb = verbOf(argv.slice(argv.indexOf('help') + 1));
  if (verb === undefined && argv.some((a) => a === '-V' || a === '--version') && !argv.some((a) => a === '-h' || a === '--help')) return [];
  if (verb === 'completion' || verb === '__complete') return COMMANDS;
  const entry = verb === undefined ? undefined : COMMANDS.find((e) => e.verbs.includes(verb));
  return entry ? [entry] : COMMANDS;
}
