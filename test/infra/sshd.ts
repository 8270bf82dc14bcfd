/**
 * A real sshd on a free loopback port for the Slurm-over-SSH tests: its own
 * host key, a fresh client key in authorized_keys, everything in a temp dir,
 * run in the foreground (-D) and stopped by PID.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { freePort, waitFor } from './ports.js';
import { startDaemon } from './process.js';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface SshdInstance {
  readonly port: number;
  readonly host: string;
  readonly user: string;
  /** Private key authorised for `user`. */
  readonly keyFile: string;
  /** A known_hosts file for clients (empty: accept-new fills it). */
  readonly knownHostsFile: string;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<SshdInstance> {
  if (!existsSync(SSHD) || !existsSync('/usr/bin/ssh'))
    throw new Error('sshd/ssh missing: apt-get install -y --no-install-recommends openssh-server openssh-client');
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-sshd-'));
  chmodSync(dir, 0o700);
  const hostKey = join(dir, 'host_ed25519');
  const keyFile = join(dir, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${keyFile}.pub`), { mode: 0o600 });
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, '', { mode: 0o600 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir sshd insists on
  const port = await freePort();
  const conf = join(dir, 'sshd_config');
  writeFileSync(
    conf,
    [
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'X11Forwarding no',
      'PrintMotd no',
      'AcceptEnv none',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const daemon = startDaemon(SSHD, ['-D', '-e', '-f', conf, '-p', String(port), '-o', 'ListenAddress=127.0.0.1'], { logFile: join(dir, 'sshd.log') });
  const killOnExit = () => {
    try {
      process.kill(-daemon.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  process.once('exit', killOnExit);
  try {
    await waitFor(
      `sshd on 127.0.0.1:${port}`,
      () => {
        if (daemon.child.exitCode !== null) throw new Error(`sshd exited: ${readFileSync(join(dir, 'sshd.log'), 'utf8')}`);
        return new Promise<boolean>((resolve) => {
          const s = connect(port, '127.0.0.1', () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        });
      },
      10_000,
    );
  } catch (err) {
    await daemon.kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    host: '127.0.0.1',
    user: 'root',
    keyFile,
    knownHostsFile,
    async stop() {
      await daemon.stop(3000);
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
