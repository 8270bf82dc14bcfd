/**
 * A real, throwaway Slurm for integration tests: munged, slurmctld, slurmd and
 * slurmrestd (JWT) from Debian's packages, on free loopback ports, all state
 * under one temp dir, every daemon run in the foreground and stopped by PID.
 *
 * Why foreground (-D / -F): the daemon's PID is then the child we spawned, so
 * stop() never has to trust a pid file another run may have left behind.
 * Why every command gets SLURM_CONF: another Slurm may run on this machine on
 * the default ports; nothing here may read /etc/slurm.
 * GPUs are declared in slurm.conf + gres.conf with AutoDetect=off and fake
 * device files (see below): Slurm schedules and accounts them like real ones,
 * which is what SkyShift needs to test.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './ports.js';
import { startDaemon, type Daemon } from './process.js';

const run = promisify(execFile);

const BINARIES = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/slurmrestd', '/usr/bin/sbatch', '/usr/bin/scontrol'];
const JWT_PLUGIN_GLOB_DIR = '/usr/lib/x86_64-linux-gnu/slurm-wlm';

export interface SlurmOptions {
  gpus?: { type: string; count: number };
  /** Advertise this many CPUs (slurmd accepts it through SlurmdParameters=config_overrides). Default: what `slurmd -C` finds. */
  cpus?: number;
  /** Start slurmrestd too. Default true. */
  rest?: boolean;
}

export interface SlurmInstance {
  /** Path of slurm.conf: pass as SLURM_CONF to every Slurm command. */
  readonly conf: string;
  /** Environment for Slurm commands (SLURM_CONF). */
  readonly env: Record<string, string>;
  readonly base: string;
  readonly restUrl: string;
  /** The OpenAPI plugin slurmrestd was started with, e.g. `v0.0.38`. */
  readonly restVersion: string;
  readonly jwtKeyFile: string;
  readonly nodeName: string;
  readonly cpus: number;
  readonly memory: number;
  /** A JWT for `user` from `scontrol token`. */
  token(user: string, lifespanSeconds?: number): Promise<string>;
  stopController(): Promise<void>;
  startController(): Promise<void>;
  restartController(): Promise<void>;
  /** Cancel every job, stop every daemon by PID and remove the base dir. */
  stop(): Promise<void>;
}

export async function slurmAvailable(): Promise<string | undefined> {
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length > 0) {
    return `Slurm test dependencies missing (${missing.join(', ')}): run scripts/install-test-deps.sh or apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge slurmrestd slurm-wlm-jwt-plugin`;
  }
  if (!existsSync(join(JWT_PLUGIN_GLOB_DIR, 'auth_jwt.so'))) return 'Slurm JWT plugin missing: apt-get install -y slurm-wlm-jwt-plugin';
  return undefined;
}

export async function startSlurm(options: SlurmOptions = {}): Promise<SlurmInstance> {
  const problem = await slurmAvailable();
  if (problem) throw new Error(problem);

  const base = mkdtempSync(join(tmpdir(), 'skyshift-slurm-'));
  // slurmrestd runs as `slurm` and munged as `munge`: both must traverse the base dir.
  chmodSync(base, 0o755);
  const dirs = { munge: join(base, 'munge'), state: join(base, 'state'), spool: join(base, 'spool'), out: join(base, 'out') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o755 });
  const munge = await ids('munge');
  chownSync(dirs.munge, munge.uid, munge.gid);
  chmodSync(dirs.munge, 0o755); // 0700 -> "Socket is inaccessible"
  // Our own munge key, so this Slurm cannot talk to (or be confused with) another one on the machine.
  const mungeKey = join(dirs.munge, 'munge.key');
  writeFileSync(mungeKey, randomBytes(128), { mode: 0o400 });
  chownSync(mungeKey, munge.uid, munge.gid);
  const jwtKeyFile = join(base, 'jwt.key');
  writeFileSync(jwtKeyFile, randomBytes(32), { mode: 0o600 });

  const [ctldPort, slurmdPort, restPort] = [await freePort(), await freePort(), await freePort()];
  const nodeName = (await run('hostname', ['-s'])).stdout.trim();
  const hw = parseSlurmdC((await run('/usr/sbin/slurmd', ['-C'])).stdout);
  const cpus = options.cpus ?? hw.cpus;
  const memory = hw.memory;
  const socket = join(dirs.munge, 'munge.socket');
  const conf = join(base, 'slurm.conf');
  const gres = options.gpus ? ` Gres=gpu:${options.gpus.type}:${options.gpus.count}` : '';
  const coresPerSocket = Math.max(1, cpus);
  writeFileSync(
    conf,
    [
      'ClusterName=skyshift-test',
      `SlurmctldHost=${nodeName}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      // Without NoCtldInAddrAny slurmctld binds 0.0.0.0.
      'CommunicationParameters=NoInAddrAny,NoCtldInAddrAny',
      'SlurmUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      'AuthAltTypes=auth/jwt',
      `AuthAltParameters=jwt_key=${jwtKeyFile}`,
      `StateSaveLocation=${dirs.state}`,
      `SlurmdSpoolDir=${dirs.spool}`,
      `SlurmctldPidFile=${join(base, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(base, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(base, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(base, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core_Memory',
      // Without it every job gets all node memory: one job at a time.
      'DefMemPerCPU=256',
      'SchedulerType=sched/backfill',
      // Default: a scheduling pass every few seconds; tests and the benchmark want ~immediate starts.
      'SchedulerParameters=sched_min_interval=100000,batch_sched_delay=0',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/filetxt',
      `JobCompLoc=${join(base, 'jobcomp.txt')}`,
      'MpiDefault=none',
      'ReturnToService=2',
      'KillWait=2',
      'MinJobAge=300',
      'SlurmdParameters=config_overrides',
      ...(options.gpus ? ['GresTypes=gpu'] : []),
      `NodeName=${nodeName} NodeAddr=127.0.0.1 CPUs=${cpus} Boards=1 SocketsPerBoard=1 CoresPerSocket=${coresPerSocket} ThreadsPerCore=1 RealMemory=${memory}${gres} State=UNKNOWN`,
      `PartitionName=debug Nodes=${nodeName} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  chmodSync(conf, 0o644);
  if (options.gpus) {
    // slurmd 22.05 drops file-less GPUs ("Removing file-less GPU gpu:a100 from final GRES
    // list"), so each fake GPU is a character device with /dev/null's numbers: slurmd is
    // satisfied, and with task/none nothing ever opens or constrains it.
    const devDir = join(base, 'dev');
    mkdirSync(devDir, { mode: 0o755 });
    for (let i = 0; i < options.gpus.count; i++) await run('mknod', [join(devDir, `gpu${i}`), 'c', '1', '3']);
    const files = options.gpus.count === 1 ? join(devDir, 'gpu0') : `${join(devDir, 'gpu')}[0-${options.gpus.count - 1}]`;
    writeFileSync(join(base, 'gres.conf'), `AutoDetect=off\nNodeName=${nodeName} Name=gpu Type=${options.gpus.type} File=${files}\n`, { mode: 0o644 });
  }
  const env: Record<string, string> = { SLURM_CONF: conf };
  const daemons: Daemon[] = [];
  let ctld: Daemon | undefined;
  const killOnExit = () => {
    for (const d of [...daemons, ctld]) {
      if (!d) continue;
      try {
        process.kill(-d.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', killOnExit);

  const startCtld = async () => {
    ctld = startDaemon('/usr/sbin/slurmctld', ['-D', '-i'], { logFile: join(base, 'slurmctld.out'), env });
    const started = ctld;
    await waitFor(
      `slurmctld on 127.0.0.1:${ctldPort} (log ${join(base, 'slurmctld.log')})`,
      async () => {
        if (started.child.exitCode !== null) throw new Error(`slurmctld exited with code ${started.child.exitCode}`);
        await run('/usr/bin/scontrol', ['ping'], { env: { ...process.env, ...env }, timeout: 5000 }).then((r) => {
          if (!/UP/.test(r.stdout)) throw new Error(r.stdout);
        });
        return true;
      },
      30_000,
      200,
    );
  };

  let restVersion = '';
  try {
    const mungeD = startDaemon(
      '/usr/sbin/runuser',
      [
        '-u',
        'munge',
        '--',
        '/usr/sbin/munged',
        '-F',
        `--socket=${socket}`,
        `--key-file=${mungeKey}`,
        `--pid-file=${join(dirs.munge, 'munged.pid')}`,
        `--log-file=${join(dirs.munge, 'munged.log')}`,
        `--seed-file=${join(dirs.munge, 'munged.seed')}`,
      ],
      { logFile: join(base, 'munged.out') },
    );
    daemons.push(mungeD);
    await waitFor(
      'munged socket',
      () => {
        if (mungeD.child.exitCode !== null) throw new Error(`munged exited (${readTail(join(base, 'munged.out'))})`);
        return existsSync(socket);
      },
      10_000,
    );
    await startCtld();
    const slurmd = startDaemon('/usr/sbin/slurmd', ['-D', '-N', nodeName], { logFile: join(base, 'slurmd.out'), env });
    daemons.push(slurmd);
    await waitFor(
      `node ${nodeName} idle (log ${join(base, 'slurmd.log')})`,
      async () => {
        if (slurmd.child.exitCode !== null) throw new Error(`slurmd exited with code ${slurmd.child.exitCode}: ${readTail(join(base, 'slurmd.log'))}`);
        const r = await run('/usr/bin/sinfo', ['-h', '-N', '-o', '%T'], { env: { ...process.env, ...env } });
        return /^idle/m.test(r.stdout);
      },
      30_000,
      100,
    );
    if (options.rest !== false) {
      restVersion = await offeredOpenApi(env);
      // slurmrestd refuses root; -u drops to `slurm` after binding. SLURM_JWT=daemon: accept user tokens.
      const restd = startDaemon('/usr/sbin/slurmrestd', ['-u', 'slurm', '-a', 'rest_auth/jwt', '-s', `openapi/${restVersion}`, `127.0.0.1:${restPort}`], {
        logFile: join(base, 'slurmrestd.log'),
        env: { ...env, SLURM_JWT: 'daemon' },
      });
      daemons.push(restd);
      await waitFor(
        'slurmrestd',
        async () => {
          if (restd.child.exitCode !== null) throw new Error(`slurmrestd exited: ${readTail(join(base, 'slurmrestd.log'))}`);
          await fetch(`http://127.0.0.1:${restPort}/openapi/v3`);
          return true;
        },
        15_000,
        100,
      );
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  async function stopController(): Promise<void> {
    await ctld?.stop(5000);
    ctld = undefined;
  }

  async function cancelAll(): Promise<void> {
    await run('/usr/bin/scancel', ['--full', '-u', 'root'], { env: { ...process.env, ...env }, timeout: 5000 }).catch(() => undefined);
    await run('/usr/bin/scancel', ['-u', 'slurm'], { env: { ...process.env, ...env }, timeout: 5000 }).catch(() => undefined);
  }

  async function stopAll(): Promise<void> {
    if (ctld && ctld.child.exitCode === null) await cancelAll();
    // Job steps (slurmstepd) daemonize away from slurmd's group; give the cancel a moment to reach them.
    await waitFor(
      'jobs gone',
      async () => {
        const r = await run('/usr/bin/squeue', ['-h', '-o', '%i'], { env: { ...process.env, ...env }, timeout: 5000 });
        return r.stdout.trim() === '';
      },
      8000,
      200,
    ).catch(() => undefined);
    for (const d of [...daemons].reverse().filter((d) => d !== daemons[0])) await d.stop(3000);
    if (ctld) await ctld.stop(3000);
    if (daemons[0]) await daemons[0].stop(3000); // munged last: the others talk to it while stopping
    daemons.length = 0;
    ctld = undefined;
    process.removeListener('exit', killOnExit);
    await killLeftoverSteps(base);
    // SKYSHIFT_KEEP_SLURM=1 keeps the logs of a failed run for a post-mortem.
    if (process.env['SKYSHIFT_KEEP_SLURM'] !== '1') rmSync(base, { recursive: true, force: true });
  }

  return {
    conf,
    env,
    base,
    restUrl: `http://127.0.0.1:${restPort}`,
    restVersion,
    jwtKeyFile,
    nodeName,
    cpus,
    memory,
    async token(user, lifespanSeconds = 3600) {
      const r = await run('/usr/bin/scontrol', ['token', `username=${user}`, `lifespan=${lifespanSeconds}`], { env: { ...process.env, ...env } });
      const m = /SLURM_JWT=(\S+)/.exec(r.stdout);
      if (!m?.[1]) throw new Error(`scontrol token printed no token: ${r.stdout} ${r.stderr}`);
      return m[1];
    },
    stopController,
    async startController() {
      if (!ctld) await startCtld();
    },
    async restartController() {
      await stopController();
      await startCtld();
    },
    stop: stopAll,
  };
}

/** `slurmd -C`: `NodeName=vm CPUs=2 ... RealMemory=24105`. */
export function parseSlurmdC(text: string): { cpus: number; memory: number } {
  const cpus = Number(/CPUs=(\d+)/.exec(text)?.[1]);
  const memory = Number(/RealMemory=(\d+)/.exec(text)?.[1]);
  if (!Number.isFinite(cpus) || !Number.isFinite(memory)) throw new Error(`cannot parse slurmd -C output: ${text}`);
  return { cpus, memory };
}

/** Highest openapi/vX.Y.Z slurmrestd offers (`-s list`); run as slurm because it refuses root. */
async function offeredOpenApi(env: Record<string, string>): Promise<string> {
  const r = await run('/usr/sbin/runuser', ['-u', 'slurm', '--', '/usr/sbin/slurmrestd', '-s', 'list'], { env: { ...process.env, ...env } }).catch(
    (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
  );
  const versions = [...`${r.stdout}\n${r.stderr}`.matchAll(/openapi\/(v\d+\.\d+\.\d+)/g)].map((m) => m[1] ?? '');
  const sorted = [...new Set(versions)].sort((a, b) => compareVersion(b, a));
  if (!sorted[0]) throw new Error(`slurmrestd offers no openapi plugin: ${r.stdout} ${r.stderr}`);
  return sorted[0];
}

function compareVersion(a: string, b: string): number {
  const pa = a.slice(1).split('.').map(Number);
  const pb = b.slice(1).split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

async function ids(user: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', user])).stdout.trim());
  const gid = Number((await run('id', ['-g', user])).stdout.trim());
  return { uid, gid };
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** slurmstepd processes of this Slurm that outlived their daemons: found by our spool dir in their environment/cmdline, killed by PID. */
async function killLeftoverSteps(base: string): Promise<void> {
  const r = await run('pgrep', ['-f', 'slurmstepd']).catch(() => ({ stdout: '' }));
  for (const pid of r.stdout
    .split('\n')
    .map(Number)
    .filter((n) => n > 0)) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (environ.includes(base)) process.kill(pid, 'SIGKILL');
    } catch {
      /* gone or not ours */
    }
  }
}
