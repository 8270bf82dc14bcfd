/**
 * The agent's Cluster: built from its flags and hardware, then registered
 * (created) or adopted (an existing one of that name gets this spec, with
 * `spec.agent: true`, so the central controllers stop running a skylet for
 * it). Its heartbeat period goes in a label (agent-health judges its
 * silence by it); other labels and the status are left as they are.
 */
import { ApiError, type Cluster } from '../api/index.js';
import type { SkyShiftClient } from '../client/index.js';
import { AGENT_HEARTBEAT_LABEL } from '../controllers/index.js';
import type { Hardware } from './hardware.js';

export type AgentManager = 'local' | 'slurm';

export interface ClusterFlags {
  manager: AgentManager;
  workdir?: string;
  /** local: podman; slurm: podman|apptainer|singularity|none. */
  runtime?: string;
  /** slurm: partition for every job. */
  partition?: string;
  /** slurm: slurm.conf for Slurm's commands. */
  slurmConf?: string;
}

/** The Cluster this agent runs: its manager's config from the flags and (local) the machine's hardware. */
export function agentCluster(name: string, flags: ClusterFlags, hw: Hardware, heartbeatSeconds = 3): Cluster {
  const config: Record<string, unknown> = {};
  if (flags.manager === 'local') {
    config['cpus'] = hw.cpus;
    config['memory'] = hw.memory;
    if (hw.gpus > 0) config['gpus'] = hw.gpus;
    if (hw.gpus > 0 && hw.gpuType) config['gpuType'] = hw.gpuType;
  } else {
    // A login node's own Slurm commands: no SSH hop (the agent runs where sbatch does).
    config['interface'] = 'cli';
    if (flags.partition !== undefined) config['partition'] = flags.partition;
    if (flags.slurmConf !== undefined) config['env'] = { SLURM_CONF: flags.slurmConf };
  }
  if (flags.workdir !== undefined) config['workdir'] = flags.workdir;
  if (flags.runtime !== undefined) config['runtime'] = flags.runtime;
  const labels = { [AGENT_HEARTBEAT_LABEL]: String(heartbeatSeconds) };
  return { kind: 'Cluster', metadata: { name, labels, annotations: {} }, spec: { manager: flags.manager, config, agent: true } } as unknown as Cluster;
}

const ATTEMPTS = 5;

/** Creates the cluster or adopts the stored one; resolves to the stored object. Errors (401, 403, network) reach the caller, which retries. */
export async function registerCluster(
  client: SkyShiftClient,
  desired: Cluster,
  signal?: AbortSignal,
): Promise<{ cluster: Cluster; action: 'created' | 'adopted' | 'unchanged' }> {
  const name = desired.metadata.name;
  for (let i = 0; ; i++) {
    let current: Cluster | undefined;
    try {
      current = await client.get<Cluster>('clusters', name, { signal });
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
    }
    try {
      if (!current) return { cluster: await client.create<Cluster>('clusters', desired, { signal }), action: 'created' };
      const labels = { ...current.metadata.labels, ...desired.metadata.labels };
      if (sameSpec(current.spec, desired.spec) && canonical(labels) === canonical(current.metadata.labels ?? {}))
        return { cluster: current, action: 'unchanged' };
      const next = { ...current, metadata: { ...current.metadata, labels }, spec: { ...current.spec, ...desired.spec } } as Cluster;
      return { cluster: await client.update<Cluster>('clusters', next, { signal }), action: 'adopted' };
    } catch (err) {
      // Someone created or changed it between our read and write: read again.
      const raced = err instanceof ApiError && (err.reason === 'AlreadyExists' || err.reason === 'Conflict');
      if (!raced || i + 1 >= ATTEMPTS) throw err;
    }
  }
}

function sameSpec(a: Cluster['spec'] | undefined, b: Cluster['spec']): boolean {
  return a?.agent === true && a.manager === b.manager && canonical(a.config ?? {}) === canonical(b.config ?? {});
}

/** JSON with keys sorted at every level: the server may store keys in another order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, val]) => `${JSON.stringify(k)}:${canonical(val)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
