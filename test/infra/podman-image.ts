/**
 * A tiny podman image built from the host's /bin/busybox (busybox-static),
 * without a registry: rootfs -> tar -> `podman import`, into podman storage
 * of its own under a temp dir so tests never touch /var/lib/containers and
 * clean up by deleting one directory (infrastructure-notes section 3).
 *
 * The image holds MARKER_FILE with MARKER_TEXT, which the host does not have:
 * a replica that can read it ran inside the container.
 */
import { execFile } from 'node:child_process';
import { access, chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { which } from '../../src/managers/local/podman.js';

const run = promisify(execFile);

export const MARKER_FILE = '/etc/skyshift-test-image';
export const MARKER_TEXT = 'inside the skyshift busybox test image';
const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'env', 'true', 'false', 'hostname', 'ls', 'pwd', 'test', 'printf', 'id', 'kill'];

export interface PodmanImage {
  /** e.g. localhost/skyshift-busybox:test */
  image: string;
  /** For LocalManagerConfig.podmanRoot / podmanRunroot. */
  root: string;
  runroot: string;
  /** Global flags for podman calls the test makes itself: `podman ...storageArgs ps`. */
  storageArgs: string[];
  /** Run podman against this storage; resolves stdout, rejects on failure. */
  podman(args: string[]): Promise<string>;
  /** Removes every container in this storage and the whole temp dir. */
  cleanup(): Promise<void>;
}

/** Why the podman tests cannot run here, or undefined when they can. */
export async function podmanUnavailable(): Promise<string | undefined> {
  for (const cmd of ['podman', 'runc', 'tar']) if (!(await which(cmd))) return `${cmd} is not installed (scripts/install-test-deps.sh)`;
  try {
    await access('/bin/busybox');
  } catch {
    return '/bin/busybox is missing (apt-get install busybox-static)';
  }
  return undefined;
}

export async function buildBusyboxImage(tag = 'localhost/skyshift-busybox:test'): Promise<PodmanImage> {
  const base = await mkdtemp(join(tmpdir(), 'skyshift-podman-'));
  const root = join(base, 'storage');
  const runroot = join(base, 'run');
  const storageArgs = ['--root', root, '--runroot', runroot];
  const podman = async (args: string[]): Promise<string> => (await run('podman', [...storageArgs, ...args], { timeout: 60_000 })).stdout;
  const cleanup = async (): Promise<void> => {
    // rm -a -f also stops what still runs, which unmounts the containers' overlays.
    await podman(['rm', '-a', '-f', '-t', '0']).catch(() => undefined);
    // Deleting a directory with a mount inside fails (EBUSY) or worse; detach any mount podman left under base.
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8').catch(() => '')).split('\n').map((l) => l.split(' ')[4] ?? '');
    for (const m of mounts
      .filter((m) => m.startsWith(base + '/'))
      .sort()
      .reverse())
      await run('umount', ['-l', m]).catch(() => undefined);
    // conmon may still be writing its last files into the runroot for a moment: retry on ENOTEMPTY.
    await rm(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    const rootfs = join(base, 'rootfs');
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await mkdir(join(rootfs, 'tmp'), { recursive: true });
    await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const a of APPLETS) await symlink('busybox', join(rootfs, 'bin', a));
    await writeFile(join(rootfs, MARKER_FILE), MARKER_TEXT + '\n');
    const tarball = join(base, 'busybox.tar');
    await run('tar', ['-C', rootfs, '-cf', tarball, '.']);
    await podman(['import', tarball, tag]);
    return { image: tag, root, runroot, storageArgs, podman, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
