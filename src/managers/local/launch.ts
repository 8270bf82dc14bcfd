/**
 * How one local replica is launched: its directory, the command line its
 * wrapper runs and the environment it gets. Nothing here starts a process
 * (manager.ts does, through process.ts).
 */
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job } from '../../api/index.js';
import { dropPrivileges, replicaEnvironment, type RunAs } from './identity.js';
import { containerName, podmanCommand, type PodmanStorage } from './podman.js';
import { FILES, type JobMeta } from './records.js';

/** The podman client's environment (never the container's): how this host's podman is configured. */
const PODMAN_CLIENT_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'XDG_RUNTIME_DIR', 'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF'];

/**
 * The replica's own directory `<rank>/work` (its cwd and HOME), owned by the
 * replica user, 0700; the log likewise 0600. `ancestors` (workdir, jobs dir,
 * job dir) and the rank dir are made traversable (0711: enter, not list) so
 * the replica can reach its HOME by path, and nothing else.
 */
export async function prepareReplicaDir(ancestors: string[], dir: string, runAs: RunAs): Promise<void> {
  const work = join(dir, FILES.work);
  await mkdir(work, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const log = join(dir, FILES.log);
  await writeFile(log, '', { flag: 'a', mode: 0o600 });
  if (!runAs.drop) return;
  for (const d of [...ancestors, dir]) await chmod(d, 0o711);
  await chown(work, runAs.uid, runAs.gid);
  await chown(log, runAs.uid, runAs.gid);
}

export interface Launch {
  /** What the wrapper runs (it records the exit code around it). */
  inner: string;
  /** The wrapper's environment; for a plain process also the replica's. */
  env: Record<string, string>;
  /** The podman container's name, when the replica runs in one. */
  container?: string;
}

export function replicaLaunch(opts: {
  job: Job;
  meta: JobMeta;
  rank: number;
  dir: string;
  runAs: RunAs;
  /** Set when the cluster's runtime is podman. */
  podman: PodmanStorage | undefined;
}): Launch {
  const { job, meta, rank, dir, runAs } = opts;
  const jobEnv: Record<string, string> = {
    ...(job.spec.envs ?? {}),
    SKYSHIFT_JOB: `${meta.namespace}/${meta.name}`,
    SKYSHIFT_JOB_UID: meta.uid,
    SKYSHIFT_REPLICA: String(rank),
    POD_RANK: String(rank),
    SKYSHIFT_REPLICAS: String(meta.replicas),
  };
  const work = join(dir, FILES.work);
  if (opts.podman && job.spec.image) {
    const container = containerName(meta.uid, rank);
    const clientEnv: Record<string, string> = {};
    for (const k of PODMAN_CLIENT_ENV) {
      const v = process.env[k];
      if (v !== undefined) clientEnv[k] = v;
    }
    // The job's variables go into the container (-e), not into the podman client;
    // the container sees its work dir and its command, no other host path.
    const inner = podmanCommand({
      container,
      uid: meta.uid,
      image: job.spec.image,
      hostDir: work,
      env: { HOME: '/workdir', ...jobEnv },
      commandFile: join(dir, FILES.command),
      storage: opts.podman,
    });
    return { inner, env: clientEnv, container };
  }
  // A subshell: the wrapper itself stays in the rank dir, where it records the exit code.
  const inner = `( cd ${FILES.work} && umask 022 && exec ${dropPrivileges(runAs)}/bin/bash ../${FILES.command} )`;
  return { inner, env: replicaEnvironment(runAs, work, jobEnv) };
}
