/** A real, throwaway etcd for integration tests: loopback ports only, stopped by PID. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';
import { startDaemon, type Daemon } from './process.js';

const ETCD = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

export interface EtcdInstance {
  /** `127.0.0.1:PORT`, as etcd3 `hosts` and `etcd://` store URLs want it. */
  readonly endpoint: string;
  readonly url: string;
  readonly dataDir: string;
  /** Stop the process and delete the data directory (unless it was given by the caller). */
  stop(): Promise<void>;
  /** Stop and start again on the same ports and data, resolving once it serves. */
  restart(): Promise<void>;
}

export async function startEtcd(options: { dir?: string } = {}): Promise<EtcdInstance> {
  if (!existsSync(ETCD)) {
    throw new Error(`etcd not found at ${ETCD}: install etcd-server: apt-get install etcd-server etcd-client`);
  }
  // /dev/shm avoids fsync cost; the tests are about semantics, not durability of the disk.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const owned = options.dir === undefined;
  const dataDir = options.dir ?? mkdtempSync(join(base, 'skyshift-etcd-'));
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'n1',
    '--data-dir',
    join(dataDir, 'data'),
    '--listen-client-urls',
    url,
    '--advertise-client-urls',
    url,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `n1=${peer}`,
    '--listen-metrics-urls',
    `http://127.0.0.1:${metricsPort}`,
    '--log-level',
    'warn',
  ];

  let daemon: Daemon | undefined;
  // A test runner that exits early must not leave etcd behind; stop() is the normal path.
  const killOnExit = () => {
    if (daemon !== undefined) {
      try {
        process.kill(-daemon.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', killOnExit);
  const launch = async () => {
    daemon = startDaemon(ETCD, args, { logFile: join(dataDir, 'etcd.log') });
    const started = daemon;
    await waitFor(`etcd on ${url} (log: ${join(dataDir, 'etcd.log')})`, async () => {
      if (started.child.exitCode !== null) throw new Error(`etcd exited with code ${started.child.exitCode}`);
      const res = await fetch(`${url}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    });
  };
  await launch().catch(async (err: unknown) => {
    await daemon?.kill();
    if (owned) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });

  return {
    endpoint: `127.0.0.1:${clientPort}`,
    url,
    dataDir,
    async stop() {
      await daemon?.stop();
      daemon = undefined;
      process.removeListener('exit', killOnExit);
      if (owned) rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await daemon?.stop();
      await launch();
    },
  };
}
