/**
 * skyctl program assembly and exit codes: 0 ok, 1 error from the server or a
 * cluster, 2 usage error (DESIGN §10).
 *
 * Global flags are declared on the program *and* on every leaf command with
 * positional options enabled, so `skyctl -n ml get jobs` and `skyctl get jobs
 * -n ml` both work while `create cluster --context` can still mean the
 * kubeconfig context (the skyctl context then goes before the verb).
 */
import { Command, CommanderError, Option } from 'commander';
import { ApiError, UnreachableError } from '../client/core.js';
import { VERSION } from '../lib/version.js';
import { entriesFor, COMMANDS } from './command-table.js';
import { ConfigError } from './config.js';
import { CommandExit, ReportedFailure, UsageError, markGlobal, type Io } from './runtime.js';

export { VERSION };

export function addGlobals(cmd: Command, options: { context?: boolean } = {}): Command {
  cmd.addOption(markGlobal(new Option('--server <url>', 'API server URL (overrides SKYSHIFT_SERVER and the context)')));
  if (options.context !== false) cmd.addOption(markGlobal(new Option('--context <name>', 'context from ~/.skyconf/config.yaml')));
  cmd.addOption(markGlobal(new Option('-n, --namespace <ns>', 'namespace (default: the context\'s, else "default")')));
  cmd.addOption(markGlobal(new Option('-A, --all-namespaces', 'list across all namespaces')));
  return cmd;
}

/**
 * The program with the commands `argv` needs (command-table.ts: only its verb's
 * module, so a run loads what it uses); without argv, every command (tests,
 * completion scripts).
 */
export async function buildProgram(io: Io, argv?: readonly string[]): Promise<Command> {
  const program = baseProgram(io);
  const entries = argv ? entriesFor(argv) : COMMANDS;
  const registrars = await Promise.all(entries.map((e) => e.load()));
  for (const register of registrars) register(program, io, addGlobals, VERSION);
  return program;
}

function baseProgram(io: Io): Command {
  const program = new Command('skyctl');
  program
    .description('SkyShift CLI: many clusters, one control plane')
    .version(VERSION)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .showSuggestionAfterError();
  addGlobals(program);
  program.addHelpText(
    'after',
    `
Examples:
  skyctl create cluster laptop --manager local
  skyctl create job hello --run 'echo hello'
  skyctl get jobs -A
  skyctl apply -f examples/
  skyctl describe job hello
  skyctl logs hello -f
  skyctl status
  skyctl config get-contexts`,
  );

  return program;
}

/** Runs skyctl with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const program = await buildProgram(io, argv);
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: Io): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander printed it already
  if (err instanceof ReportedFailure) return err instanceof CommandExit ? err.code : 1;
  if (err instanceof UsageError) {
    io.stderr.write(`error: ${err.message}\n`);
    return 2;
  }
  if (err instanceof UnreachableError) {
    io.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
  if (err instanceof ApiError) {
    io.stderr.write(`Error from server (${err.reason}): ${err.message}\n`);
    return 1;
  }
  if (err instanceof ConfigError) {
    io.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
  if (io.signal.aborted) return 0;
  io.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}
