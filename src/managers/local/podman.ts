/**
 * The optional podman runtime of the local manager. Flags follow what works on
 * this kind of host (infrastructure-notes section 3): runc (crun fails on
 * hybrid cgroups), explicit ulimits (the defaults exceed the hard limit), and
 * host networking (the default bridge rewrites the host's iptables).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { shellQuote } from './process.js';

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

/**
 * The shell line the wrapper runs for a containerised replica. The replica
 * directory is mounted as /workdir; the command file is run with bash when
 * the image has it, else sh (busybox-style images).
 */
export function podmanCommand(opts: { container: string; image: string; hostDir: string; env: Record<string, string>; commandFile: string }): string {
  const args = [
    'podman',
    'run',
    '--rm',
    '--name',
    opts.container,
    '--runtime',
    'runc',
    '--network=host',
    '--ulimit',
    'nofile=1024:1024',
    '--ulimit',
    'nproc=1024:1024',
    '-v',
    `${opts.hostDir}:/workdir`,
    '-w',
    '/workdir',
  ];
  for (const [k, v] of Object.entries(opts.env)) args.push('-e', `${k}=${v}`);
  const inner = `if command -v bash >/dev/null 2>&1; then exec bash /workdir/${opts.commandFile}; else exec sh /workdir/${opts.commandFile}; fi`;
  args.push(opts.image, 'sh', '-c', inner);
  return args.map(shellQuote).join(' ');
}
