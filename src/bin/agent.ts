/** `skyshift agent`: wiring only (flags -> hardware -> Cluster -> manager -> runAgent); the runtime is src/agent. */
import { parseCpus, parseMemory, registerClusterConfigSchemas } from '../api/index.js';
import { agentCluster, detectHardware, runAgent, type AgentManager } from '../agent/index.js';
import { SkyShiftClient, type TlsOptions } from '../client/index.js';
import { serverTls } from '../client/tls-pin.js';
import { clusterConfigSchemas, createManager } from '../managers/index.js';
import { controllerToken } from './auth-setup.js';
import { createLogger } from './logger.js';
import { onShutdown } from './shutdown.js';

export interface AgentCommandOptions {
  server: string;
  tokenFile?: string;
  cluster: string;
  manager: string;
  cpus?: string;
  memory?: string;
  gpus?: number;
  gpuType?: string;
  workdir?: string;
  runtime?: string;
  partition?: string;
  slurmConf?: string;
  caFile?: string;
  fingerprint?: string;
  heartbeatSeconds: number;
  evictionGraceSeconds: number;
  logLevel: string;
}

export async function runAgentCommand(o: AgentCommandOptions): Promise<void> {
  const logger = createLogger(o.logLevel, 'skyshift-agent');
  if (o.manager !== 'local' && o.manager !== 'slurm') throw new Error(`--manager must be local or slurm, got '${o.manager}'`);
  const manager: AgentManager = o.manager;
  // --ca-file, or the CA pinned by --fingerprint (fetched from the server's chain once), or the system CAs: never unverified.
  const tls: TlsOptions | undefined = await serverTls({
    server: o.server,
    ...(o.caFile ? { caFile: o.caFile } : {}),
    ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
  });
  const token = controllerToken({ ...(o.tokenFile ? { tokenFile: o.tokenFile } : {}) });
  const client = new SkyShiftClient({ server: o.server, ...(token ? { token } : {}), ...(tls ? { tls } : {}) });

  const hardware = await detectHardware({
    ...(o.cpus !== undefined ? { cpus: parseCpus(o.cpus, '--cpus') } : {}),
    ...(o.memory !== undefined ? { memory: parseMemory(o.memory, '--memory') } : {}),
    ...(o.gpus !== undefined ? { gpus: o.gpus } : {}),
    ...(o.gpuType !== undefined ? { gpuType: o.gpuType } : {}),
  });
  const cluster = agentCluster(o.cluster, { manager, ...pick(o) }, hardware, o.heartbeatSeconds);
  // The manager validates its config against the same schema the server will.
  registerClusterConfigSchemas(clusterConfigSchemas());
  // Checked before connecting anywhere: a bad flag fails now, not in a retry loop.
  createManager(cluster);
  logger.info({ cluster: o.cluster, manager, hardware: manager === 'local' ? hardware : undefined, server: client.server }, 'agent starting');

  const abort = new AbortController();
  let done: Promise<unknown> = Promise.resolve();
  onShutdown(logger, async () => {
    abort.abort();
    await done;
  });
  // The runtime's timers are unref'd (background clock): this keeps the process alive while it waits to reconnect.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    done = runAgent({
      client,
      server: client.server,
      ...(token ? { token } : {}),
      ...(tls ? { tls } : {}),
      cluster,
      // Built from the registered Cluster: the slurm manager marks its jobs with the cluster's uid.
      manager: (registered) => {
        const m = createManager(registered);
        m.connect().catch((err: unknown) =>
          logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'manager not ready yet (the heartbeat reports it)'),
        );
        return m;
      },
      logger,
      options: { heartbeatSeconds: o.heartbeatSeconds, evictionGraceSeconds: o.evictionGraceSeconds },
      signal: abort.signal,
    });
    const end = await done;
    if (end === 'deleted') process.exitCode = 3;
    if (end === 'refused') process.exitCode = 4;
  } finally {
    clearInterval(keepAlive);
  }
}

function pick(o: AgentCommandOptions): { workdir?: string; runtime?: string; partition?: string; slurmConf?: string } {
  return {
    ...(o.workdir !== undefined ? { workdir: o.workdir } : {}),
    ...(o.runtime !== undefined ? { runtime: o.runtime } : {}),
    ...(o.partition !== undefined ? { partition: o.partition } : {}),
    ...(o.slurmConf !== undefined ? { slurmConf: o.slurmConf } : {}),
  };
}
