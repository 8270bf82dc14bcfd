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
import { ApiError, UnreachableError } from '../client/index.js';
import { VERSION } from '../lib/version.js';
import { ConfigError } from './config.js';
import { registerApply } from './commands/apply.js';
import { registerAuthCommands } from './commands/auth.js';
import { registerConfig } from './commands/config.js';
import { registerCreate } from './commands/create.js';
import { registerDelete } from './commands/delete.js';
import { registerDescribe } from './commands/describe.js';
import { registerGet } from './commands/get.js';
import { registerLogs } from './commands/logs.js';
import { CommandExit, registerExec } from './commands/exec.js';
import { registerPortForward } from './commands/port-forward.js';
import { registerStatus } from './commands/status.js';
import { registerVersion } from './commands/version.js';
import { registerLabel } from './commands/label.js';
import { registerAnnotate } from './commands/annotate.js';
import { registerPatch } from './commands/patch.js';
import { registerWait } from './commands/wait.js';
import { registerExplain } from './commands/explain.js';
import { registerEdit } from './commands/edit.js';
import { registerCompletion } from './commands/completion.js';
import { ReportedFailure, UsageError, markGlobal, type Io } from './runtime.js';

export { VERSION };

export function addGlobals(cmd: Command, options: { context?: boolean } = {}): Command {
  cmd.addOption(markGlobal(new Option('--server <url>', 'API server URL (overrides SKYSHIFT_SERVER and the context)')));
  if (options.context !== false) cmd.addOption(markGlobal(new Option('--context <name>', 'context from ~/.skyconf/config.yaml')));
  cmd.addOption(markGlobal(new Option('-n, --namespace <ns>', 'namespace (default: the context\'s, else "default")')));
  cmd.addOption(markGlobal(new Option('-A, --all-namespaces', 'list across all namespaces')));
  return cmd;
}

export function buildProgram(io: Io): Command {
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

  registerGet(program, io, addGlobals);
  registerDescribe(program, io, addGlobals);
  registerCreate(program, io, addGlobals);
  registerApply(program, io, addGlobals);
  registerDelete(program, io, addGlobals);
  registerLogs(program, io, addGlobals);
  registerExec(program, io, addGlobals);
  registerPortForward(program, io, addGlobals);
  registerStatus(program, io, addGlobals);
  registerVersion(program, io, addGlobals, VERSION);
  registerConfig(program, io);
  registerLabel(program, io, addGlobals);
  registerAnnotate(program, io, addGlobals);
  registerPatch(program, io, addGlobals);
  registerWait(program, io, addGlobals);
  registerExplain(program, io);
  registerEdit(program, io, addGlobals);
  registerCompletion(program, io);
  registerAuthCommands(program, io, addGlobals);
  return program;
}

/** Runs skyctl with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
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
