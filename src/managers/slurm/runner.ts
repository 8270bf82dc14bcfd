/**
 * Runs commands where Slurm is: on this host, or on a login node over SSH.
 * Arguments are always an array. Over SSH the remote shell re-parses the
 * command line, so every argument is single-quoted (quote()) before it is
 * joined; nothing a user wrote is ever interpolated unquoted.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunnerConfig {
  /** SSH host; unset = run locally. */
  host?: string;
  user?: string;
  port?: number;
  sshKey?: string;
  /** known_hosts file for ssh (default: ssh's own, ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /** Extra environment for every command (e.g. SLURM_CONF). */
  env?: Record<string, string>;
  /** Per command. Default 30 s. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** POSIX single-quoting: safe for any byte string. */
export function quote(arg: string): string {
  if (/^[A-Za-z0-9_\-.,/:=@%+]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export class Runner {
  constructor(private readonly config: RunnerConfig) {}

  get where(): string {
    return this.config.host ? `${this.config.user ? this.config.user + '@' : ''}${this.config.host}` : 'localhost';
  }

  get remote(): boolean {
    return this.config.host !== undefined && this.config.host !== '';
  }

  /**
   * The argv actually spawned: the command itself, or ssh with the quoted
   * command line (`tty`: ssh -tt, for commands that need a terminal there).
   * Public for streaming callers (exec) that spawn it themselves.
   */
  argv(argv: string[], options: { tty?: boolean } = {}): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    const extra = this.config.env ?? {};
    if (!this.config.host) {
      const [file, ...args] = argv;
      if (!file) throw new Error('empty command');
      return { file, args, env: { ...process.env, ...extra } };
    }
    const envPrefix = Object.entries(extra).map(([k, v]) => quote(`${k}=${v}`));
    const line = [...(envPrefix.length > 0 ? ['env', ...envPrefix] : []), ...argv.map(quote)].join(' ');
    const ssh = [...this.sshOptions(), ...(options.tty ? ['-tt'] : []), this.config.host, '--', line];
    return { file: 'ssh', args: ssh, env: process.env };
  }

  /** ssh (no remote command) relaying one TCP connection from the login node to host:port (`ssh -W`). */
  tunnelArgv(host: string, port: number): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    if (!this.config.host) throw new Error('tunnelArgv needs an SSH host');
    return { file: 'ssh', args: [...this.sshOptions(), '-W', `${host}:${port}`, this.config.host], env: process.env };
  }

  private sshOptions(): string[] {
    const ssh = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', 'ConnectTimeout=10', '-o', 'ServerAliveInterval=15'];
    if (this.config.sshKey) ssh.push('-i', this.config.sshKey, '-o', 'IdentitiesOnly=yes');
    if (this.config.knownHostsFile) ssh.push('-o', `UserKnownHostsFile=${this.config.knownHostsFile}`);
    if (this.config.port) ssh.push('-p', String(this.config.port));
    if (this.config.user) ssh.push('-l', this.config.user);
    return ssh;
  }

  /** Run to completion. Never throws for a non-zero exit (see `code`); throws if it cannot be started or times out. */
  run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    const { file, args, env } = this.argv(argv);
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal, timeout: timeoutMs, killSignal: 'SIGKILL' });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => reject(new Error(`${argv[0] ?? ''} on ${this.where}: ${e.message}`)));
      child.on('close', (code, sig) => {
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8');
        if (code === null) return reject(new Error(`${argv[0] ?? ''} on ${this.where} killed by ${sig ?? 'signal'} (timeout ${timeoutMs} ms?)`));
        resolve({ stdout, stderr, code });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input ?? '');
    });
  }

  /** Run and return stdout; throws with stderr when the exit code is non-zero. */
  async check(argv: string[], options: RunOptions = {}): Promise<string> {
    const r = await this.run(argv, options);
    if (r.code !== 0) {
      const msg = (r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).split('\n').slice(-3).join('; ');
      throw new Error(`${argv[0] ?? ''} on ${this.where}: ${msg}`);
    }
    return r.stdout;
  }

  /**
   * Lines of a long-running command (tail -F) until it exits or the signal
   * aborts. The command gets a stdin pipe that is closed on abort: commands
   * built with stdinWatchdog() stop when it closes, which is how a remote
   * `tail -F` ends when the ssh client goes away instead of lingering.
   */
  async *lines(argv: string[], signal: AbortSignal): AsyncGenerator<string> {
    if (signal.aborted) return;
    const { file, args, env } = this.argv(argv);
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdin.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.stdin.end();
      timer ??= setTimeout(() => child.kill('SIGKILL'), 3000);
    };
    signal.addEventListener('abort', stop, { once: true });
    try {
      const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
      for await (const line of rl) {
        if (signal.aborted) return;
        yield line;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      if (child.exitCode === null) {
        stop();
        await new Promise((r) => child.once('close', r));
      }
      if (timer) clearTimeout(timer);
    }
  }
}

/** `sh -c` wrapper running `argv` in the background until stdin closes (see Runner.lines). */
export function stdinWatchdog(argv: string[]): string[] {
  return ['sh', '-c', '"$@" & p=$!; cat >/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; exit 0', 'sh', ...argv];
}
