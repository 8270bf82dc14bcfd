/**
 * `skyctl completion bash|zsh|fish` prints a completion script; the scripts
 * call the hidden `skyctl __complete -- WORDS... CURRENT`, which prints one
 * candidate a line: subcommands, flags, kinds, and object names read from
 * the server (so `skyctl get jobs <TAB>` offers the jobs that exist).
 */
import type { Command, Option } from 'commander';
import { KIND_NAMES, resolveKindName, type ApiObject } from '../../client/core.js';
import { configPath, loadConfig } from '../config.js';
import { jobNameArg } from '../resource-args.js';
import { taskNames } from './port-forward.js';
import { UsageError, connect, type Globals, type Io } from '../runtime.js';

const BASH = `# skyctl completion for bash: source <(skyctl completion bash)
_skyctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n'
  COMPREPLY=( $(compgen -W "$(skyctl __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur") )
}
complete -o default -F _skyctl skyctl
`;

const ZSH = `#compdef skyctl
# skyctl completion for zsh: source <(skyctl completion zsh)
_skyctl() {
  local -a candidates
  candidates=("\${(@f)$(skyctl __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
if [ "$funcstack[1]" = "_skyctl" ]; then _skyctl "$@"; else compdef _skyctl skyctl; fi
`;

const FISH = `# skyctl completion for fish: skyctl completion fish | source
function __skyctl_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    skyctl __complete -- $words[2..-1] "$current" 2>/dev/null
end
complete -c skyctl -f -a '(__skyctl_complete)'
`;

/** Verbs whose first argument is a kind, and how many names may follow it. */
const KIND_VERBS: Record<string, number> = { get: Infinity, describe: Infinity, delete: Infinity, edit: 1, label: 1, annotate: 1, patch: 1, wait: 1 };

const SCRIPTS: Record<string, string> = { bash: BASH, zsh: ZSH, fish: FISH };
const GLOBAL_VALUE = new Map([
  ['--server', 'server'],
  ['--context', 'context'],
  ['-n', 'namespace'],
  ['--namespace', 'namespace'],
] as const);

function optionFor(cmd: Command, flag: string): Option | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
}

/** What to offer for the last word of `words` (the one being typed, maybe empty). */
export async function candidates(program: Command, words: string[], io: Io): Promise<string[]> {
  const typed = [...words];
  const cur = typed.pop() ?? '';
  let cmd = program;
  const positionals: string[] = [];
  const globals: Globals = {};
  let valueFor: Option | undefined;
  for (let i = 0; i < typed.length; i++) {
    const w = typed[i] as string;
    if (w.startsWith('-') && w.length > 1) {
      const [flag = '', inline] = w.split(/=(.*)/s, 2);
      const opt = optionFor(cmd, flag);
      if (inline === undefined && typed[i + 1] === '=') i++; // bash splits --flag=value at '='
      const value = inline ?? (opt && (opt.required || opt.optional) ? typed[++i] : undefined);
      if (opt && (opt.required || opt.optional) && value === undefined) valueFor = opt;
      const key = GLOBAL_VALUE.get(flag as '-n');
      if (key && value !== undefined) globals[key] = value;
      continue;
    }
    const sub = positionals.length === 0 ? cmd.commands.find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
    if (sub) cmd = sub;
    else positionals.push(w);
  }
  if (valueFor) return valueCandidates(cmd, valueFor, globals, io, positionals);
  if (cur.startsWith('-')) {
    const flags: string[] = [];
    for (let c: Command | null = cmd; c; c = c.parent) for (const o of c.options) if (!o.hidden && o.long) flags.push(o.long);
    return [...new Set(flags)];
  }
  const subs = cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden).map((c) => c.name());
  if (subs.length && positionals.length === 0) return subs;
  const verb = cmd.parent === program ? cmd.name() : '';
  const takesKind = KIND_VERBS[verb];
  if (takesKind !== undefined) {
    const first = positionals[0];
    if (cur.includes('/') && (positionals.length === 0 || (takesKind === Infinity && first?.includes('/')))) {
      const kind = cur.slice(0, cur.indexOf('/'));
      return (await names(cmd, kind, globals, io)).map((n) => `${kind}/${n}`);
    }
    if (positionals.length === 0) return KIND_NAMES.map((k) => k.plural);
    if (first && !first.includes('/') && positionals.length <= takesKind) return names(cmd, first, globals, io);
    return [];
  }
  if (verb === 'explain' && positionals.length === 0) return KIND_NAMES.map((k) => k.singular);
  if (JOB_VERBS.includes(verb) && positionals.length === 0) return names(cmd, 'jobs', globals, io);
  const contextVerbs = ['use-context', 'set-context', 'delete-context', 'rename-context'];
  if (cmd.parent?.name() === 'config' && contextVerbs.includes(cmd.name()) && positionals.length === 0)
    return loadConfig(configPath(io.home)).contexts.map((c) => c.name);
  return [];
}

/** Verbs whose first argument is a job (and whose --task is one of its tasks). */
const JOB_VERBS = ['logs', 'exec', 'port-forward'];

async function valueCandidates(cmd: Command, opt: Option, globals: Globals, io: Io, positionals: string[]): Promise<string[]> {
  if (opt.long === '--task' && positionals[0]) return tasksOf(cmd, positionals[0], globals, io);
  if (opt.long === '--namespace') return names(cmd, 'namespaces', globals, io);
  if (opt.long === '--context') return loadConfig(configPath(io.home)).contexts.map((c) => c.name);
  if (opt.long === '--output') return ['json', 'yaml', 'wide', 'name', 'jsonpath=', 'custom-columns='];
  return [];
}

async function names(cmd: Command, kindName: string, globals: Globals, io: Io): Promise<string[]> {
  const kind = resolveKindName(kindName);
  if (!kind) return [];
  const s = connect(cmd, io, globals);
  const list = await s.client.list(kind, {
    namespace: kind.namespaced ? s.namespace : undefined,
    signal: AbortSignal.any([io.signal, AbortSignal.timeout(5000)]),
  });
  return list.items.map((o) => o.metadata.name);
}

async function tasksOf(cmd: Command, jobArg: string, globals: Globals, io: Io): Promise<string[]> {
  const s = connect(cmd, io, globals);
  const job = await s.client.get<ApiObject>('jobs', jobNameArg(jobArg, cmd.name()), {
    namespace: s.namespace,
    signal: AbortSignal.any([io.signal, AbortSignal.timeout(5000)]),
  });
  return taskNames(job);
}

export function registerCompletion(program: Command, io: Io): void {
  program
    .command('completion')
    .description('Print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText(
      'after',
      `
Examples:
  source <(skyctl completion bash)          # add to ~/.bashrc
  source <(skyctl completion zsh)           # add to ~/.zshrc (after compinit)
  skyctl completion fish | source           # add to ~/.config/fish/config.fish`,
    )
    .action((shell: string) => {
      const script = SCRIPTS[shell];
      if (!script) throw new UsageError(`unsupported shell "${shell}": use bash, zsh or fish`);
      io.stdout.write(script);
    });
  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .allowUnknownOption()
    .action(async (words: string[]) => {
      let found: string[] = [];
      try {
        found = await candidates(program, words, io);
      } catch {
        // Completion must never print an error into the user's command line.
      }
      const cur = words[words.length - 1] ?? '';
      for (const c of found) if (c.startsWith(cur)) io.stdout.write(c + '\n');
    });
}
