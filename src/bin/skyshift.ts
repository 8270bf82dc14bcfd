#!/usr/bin/env node
/**
 * The `skyshift` binary: the composition root. Subcommands are separate
 * commander commands so `up` and `controllers` can be added beside `server`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { VERSION } from '../lib/version.js';
import { startApiServer, type ApiServerFlags } from './api-server.js';
import { addAuthFlags } from './auth-setup.js';
import { runAgentCommand, type AgentCommandOptions } from './agent.js';
import { runControllersCommand, type ControllersCommandOptions } from './controllers-cmd.js';
import { createLogger } from './logger.js';
import { onShutdown } from './shutdown.js';
import { runUp, type UpCommandOptions } from './up.js';
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function parseLevel(value: string): string {
  if (!LEVELS.includes(value)) throw new InvalidArgumentError(`must be one of ${LEVELS.join(', ')}`);
  return value;
}

export interface ServerCommandOptions extends ApiServerFlags {
  logLevel: string;
  watchBookmarkSeconds: number;
  watchHistory: number;
}

/** Runs the API server until SIGTERM/SIGINT, then stops accepting, ends watches, closes the store. */
async function runServer(options: ServerCommandOptions): Promise<void> {
  const logger = createLogger(options.logLevel, 'skyshift-server');
  const { server, store, releaseDataDir } = await startApiServer(options, 'skyshift server', logger, {
    bookmarkIntervalMs: options.watchBookmarkSeconds * 1000,
    watchHistory: options.watchHistory,
  });
  onShutdown(logger, async () => {
    await server.close();
    await store.close();
    releaseDataDir();
  });
}

export function buildProgram(): Command {
  const program = new Command('skyshift').description('SkyShift control plane: many clusters that look like one').version(VERSION);

  const serverCmd = program
    .command('server')
    .description('run the API server only (state in SQLite or etcd)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', parsePort, 50051)
    .option('--store <url>', 'sqlite:PATH | etcd://HOST:PORT[,HOST:PORT] | memory:', 'sqlite:~/.skyshift/skyshift.db')
    .option('--log-level <level>', `log level (${LEVELS.join(', ')})`, parseLevel, 'info')
    .option('--watch-bookmark-seconds <n>', 'interval of BOOKMARK events on idle watches', parseCount, 30)
    .option('--watch-history <n>', 'watch events kept per kind so clients can resume', parseCount, 20_000)
    .option('--max-replicas <n>', 'largest spec.replicas a job may ask for', parseCount, 10_000)
    .option('--access-log', 'log one line per request (method, route, status, duration, user) at info')
    .addHelpText(
      'after',
      `
Examples:
  $ skyshift server
  $ skyshift server --port 8080 --store sqlite:/var/lib/skyshift/skyshift.db
  $ skyshift server --host 0.0.0.0 --store etcd://10.0.0.1:2379,10.0.0.2:2379 --log-level warn
  $ skyshift server --tls-cert server.crt --tls-key server.key`,
    )
    .action(async (options: ServerCommandOptions) => runServer(options));
  addAuthFlags(serverCmd, { tls: true });

  const positive = (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
    return n;
  };
  const controllerFlags = (cmd: Command) =>
    cmd
      .option('--heartbeat-seconds <n>', 'seconds between cluster heartbeats and job syncs', positive, 3)
      .option('--eviction-grace-seconds <n>', 'an ERROR cluster has its replicas evicted after this long', positive, 30)
      .option('--lease-duration-seconds <n>', 'leader lease duration; a standby takes over this long after the leader dies', positive, 15)
      .option('--max-replicas <n>', 'largest spec.replicas a job may ask for (give the API server the same)', parseCount, 10_000)
      .option('--event-ttl-seconds <n>', 'delete Events this long after they last happened', positive, 3600)
      .option('--log-level <level>', `log level (${LEVELS.join(', ')})`, parseLevel, 'info');

  controllerFlags(
    addAuthFlags(
      program
        .command('up')
        .description('API server, controllers, SQLite store, a local cluster and your kubeconfig contexts in one process; writes a skyctl context')
        .option('--host <host>', 'address to listen on', '127.0.0.1')
        .option('--port <port>', 'port to listen on', parsePort, 50051)
        .option('--store <url>', 'sqlite:PATH | etcd://HOST:PORT[,HOST:PORT] | memory:', 'sqlite:~/.skyshift/skyshift.db')
        .option('--no-local-cluster', 'do not register a local cluster named after this host')
        .option('--kubeconfig <path>', 'register the contexts of this kubeconfig (default: KUBECONFIG, else ~/.kube/config)')
        .option('--no-kubeconfig', 'do not register kubeconfig contexts as Kubernetes clusters')
        .option('--local-cpus <n>', 'cpus of the local cluster (default: this host)')
        .option('--local-memory <size>', 'memory of the local cluster, e.g. 8Gi (default: this host)')
        .option('--access-log', 'log one line per request (method, route, status, duration, user) at info'),
      { tls: 'self-signed' },
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ skyshift up
  $ skyshift up --port 8080 --local-cpus 4 --local-memory 8Gi
  $ skyshift up --no-local-cluster --heartbeat-seconds 1
  $ skyshift up --kubeconfig ~/.kube/lab.yaml
  $ skyshift up --no-kubeconfig`,
    )
    .action(async (options: UpCommandOptions) => runUp(options));

  controllerFlags(
    program
      .command('controllers')
      .description('run the controller manager only (scheduler, skylets), against an API server; several may run, one leads')
      .requiredOption('--server <url>', 'API server URL, e.g. http://127.0.0.1:50051')
      .option('--identity <name>', 'leader election identity (default: hostname_pid_random)')
      .option('--token <token>', 'bearer token for the API server (prefer --token-file: arguments are visible to other local users)')
      .option('--token-file <file>', 'file holding the bearer token, e.g. ~/.skyshift/controllers.token written by skyshift server')
      .option('--metrics-port <port>', "serve the controllers' Prometheus metrics on http://127.0.0.1:<port>/metrics", positive)
      .option(
        '--only <names>',
        'run only these controllers (comma-separated: scheduler, skylets, ttl, agent-health), each group electing its own leader',
        (v) =>
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
      ),
  ).action(async (options: ControllersCommandOptions) => runControllersCommand(options));

  const count0 = (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > 1024) throw new InvalidArgumentError('must be an integer from 0 to 1024');
    return n;
  };
  program
    .command('agent')
    .description("run one cluster's skylet on this machine (local processes or podman, or this login node's Slurm); connects out to the API server only")
    .requiredOption('--server <url>', 'API server URL, e.g. https://cp.example.org:50051')
    .requiredOption('--cluster <name>', 'the cluster this machine is (registered, or adopted when it exists)')
    .option('--token-file <file>', "file holding the agent's token (from skyctl create cluster NAME --agent)")
    .option('--manager <type>', 'local | slurm', 'local')
    .option('--cpus <n>', 'local: cpus to offer (default: this machine)')
    .option('--memory <size>', 'local: memory to offer, e.g. 64Gi (default: this machine)')
    .option('--gpus <n>', 'local: GPUs to offer (default: counted by nvidia-smi)', count0)
    .option('--gpu-type <type>', 'local: their type, e.g. A100 (default: from nvidia-smi)')
    .option('--workdir <dir>', 'where replicas (local) or job scripts (slurm) live')
    .option('--runtime <runtime>', 'local: podman; slurm: podman|apptainer|singularity|none')
    .option('--partition <name>', "slurm: partition for every job (default: Slurm's default)")
    .option('--slurm-conf <path>', "slurm: slurm.conf for Slurm's commands (sets SLURM_CONF)")
    .option('--ca-file <file>', "PEM CA that signed the server's certificate (https servers with a private CA)")
    .option('--fingerprint <sha256>', "the server CA's SHA-256 fingerprint, as skyshift up --tls and skyctl create cluster --agent print it")
    .option('--heartbeat-seconds <n>', 'seconds between heartbeats and job syncs', positive, 3)
    .option('--eviction-grace-seconds <n>', 'a cluster whose manager stays ERROR this long has its replicas evicted', positive, 30)
    .option('--log-level <level>', `log level (${LEVELS.join(', ')})`, parseLevel, 'info')
    .addHelpText(
      'after',
      `
The agent needs no open port: it connects to --server, registers its Cluster (spec.agent: true,
so the central controllers run no skylet for it) and runs replicas here. If the server is lost the
replicas keep running and the agent reconnects; ranks placed elsewhere meanwhile are stopped first.

Examples:
  $ skyshift agent --server https://cp:50051 --token-file join.token --cluster lab-gpu
  $ skyshift agent --server https://cp:50051 --token-file join.token --cluster lab-gpu --ca-file ca.crt --gpus 2 --gpu-type A100
  $ skyshift agent --server http://10.0.0.1:50051 --token-file ws.token --cluster ws1 --cpus 8 --memory 32Gi --workdir /scratch/skyshift
  $ skyshift agent --server https://cp:50051 --token-file hpc.token --cluster hpc --manager slurm --partition debug`,
    )
    .action(async (options: AgentCommandOptions) => runAgentCommand(options));

  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`skyshift: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
