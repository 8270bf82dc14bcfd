/**
 * The optional podman runtime of the local manager. Flags follow what works on
 * this kind of host (infrastructure-notes section 3): runc (crun fails on
 * hybrid cgroups), explicit ulimits (the defaults exceed the hard limit), and
 * host networking (the default bridge rewrites the host's iptables).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { shellQuote } from './process.js';

/** Where podman keeps its state. Unset: podman's defaults (/var/lib/containers for root). */
export interface PodmanStorage {
  /** `podman --root`: images and containers. For isolated or rootless setups and tests. */
  root?: string;
  /** `podman --runroot`: runtime state (locks, pid files). */
  runroot?: string;
}

/** Label carrying the full job uid: the container name holds only 8 characters of it. */
export const UID_LABEL = 'skyshift.job-uid';

/** Absolute path of an executable on PATH, or undefined. */
export async function which(command: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** undefined when podman can run here, else the message to show (naming the cluster). */
export async function podmanProblem(cluster: string): Promise<string | undefined> {
  if (!(await which('podman'))) return `cluster '${cluster}': runtime podman is not installed on this host (apt-get install podman runc)`;
  if (!(await which('runc'))) return `cluster '${cluster}': runtime podman needs runc, which is not installed on this host (apt-get install runc)`;
  return undefined;
}

/** Global flags (before the subcommand) selecting the storage; every podman call of a cluster must use the same. */
export function storageArgs(storage: PodmanStorage): string[] {
  const args: string[] = [];
  if (storage.root) args.push('--root', storage.root);
  if (storage.runroot) args.push('--runroot', storage.runroot);
  return args;
}

/**
 * Deterministic container name of a replica: `skyshift-<uid8>-<rank>`, short
 * enough to read in `podman ps` and derivable from the job alone, so cancel
 * finds the container even when SkyShift restarted in between. Two uids
 * sharing 8 characters would collide on the name; the full uid is in the
 * UID_LABEL label, which removal checks, so a collision fails the second
 * replica's start (name in use) rather than letting one job remove another's.
 */
export function containerName(uid: string, rank: number): string {
  return `skyshift-${uid
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 8)
    .toLowerCase()}-${rank}`;
}

/**
 * The shell line the wrapper runs for a containerised replica. Only the
 * replica's work dir (as /workdir) and its command file (read-only) are
 * mounted; the command is run with bash when the image has it, else sh
 * (busybox-style images).
 */
export function podmanCommand(opts: {
  container: string;
  uid: string;
  image: string;
  /** The replica's work dir on the host. */
  hostDir: string;
  env: Record<string, string>;
  /** Host path of the job's command file. */
  commandFile: string;
  storage?: PodmanStorage;
}): string {
  const args = [
    'podman',
    ...storageArgs(opts.storage ?? {}),
    'run',
    '--rm',
    '--name',
    opts.container,
    '--label',
    `${UID_LABEL}=${opts.uid}`,
    '--runtime',
    'runc',
    '--network=host',
    '--ulimit',
    'nofile=1024:1024',
    '--ulimit',
    'nproc=1024:1024',
    '-v',
    `${opts.hostDir}:/workdir`,
    '-v',
    `${opts.commandFile}:/.skyshift-command.sh:ro`,
    '-w',
    '/workdir',
  ];
  for (const [k, v] of Object.entries(opts.env)) args.push('-e', `${k}=${v}`);
  const inner = 'if command -v bash >/dev/null 2>&1; then exec bash /.skyshift-command.sh; else exec sh /.skyshift-command.sh; fi';
  args.push(opts.image, 'sh', '-c', inner);
  return args.map(shellQuote).join(' ');
}

function podman(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('podman', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Force-remove the replica's container (stop with a 1 s grace, then kill).
 * Needed because SIGTERM to the `podman run` client does not stop the
 * container: conmon runs outside the replica's process group and the
 * container's PID 1 (sh) ignores SIGTERM. Only a container with this name AND
 * this job's uid label is removed. Best effort: resolves whatever happens.
 */
export async function removeContainer(storage: PodmanStorage, name: string, uid: string): Promise<void> {
  const found = await podman([...storageArgs(storage), 'ps', '-a', '-q', '--no-trunc', '--filter', `name=^${name}$`, '--filter', `label=${UID_LABEL}=${uid}`]);
  const ids = found.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[0-9a-f]+$/.test(s));
  if (ids.length === 0) return;
  await podman([...storageArgs(storage), 'rm', '-f', '-t', '1', ...ids]);
}
