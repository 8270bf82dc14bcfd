/**
 * Separate "hosts" for end-to-end tests: Linux network namespaces joined by
 * veth pairs to one bridge, like machines on a switch.
 *
 *   switch ns  <prefix>-sw : bridge <prefix>br, the switch ends <prefix>s<i> of every veth
 *   host ns    <prefix>-<host> : lo + <prefix>h<i> with <subnet>.<10+i>/24
 *   operator   : a veth <prefix>op in the test's own namespace (<subnet>.254), so the test
 *                process (its in-process client, skyctl) reaches the hosts like a laptop on the lab LAN
 *
 * Namespaces share the filesystem, so hosts can share a directory (marker files).
 * `cut(host)` sets the switch end of its cable down (packets are dropped, nothing is
 * refused: a pulled cable), `restore(host)` sets it up again.
 *
 * Everything carries a per-run prefix `skn<pid base 36><3 random>` (interface names fit
 * IFNAMSIZ 15) and is removed by name: `destroy()`, a process 'exit' handler, a reaper
 * process that cleans up when the test process dies even by SIGKILL (its stdin ends),
 * and `sweepNetns()` at start, which removes what runs of dead processes left behind.
 * Deleting the switch namespace deletes every veth pair (a veth dies with its peer).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { startDaemon, type Daemon } from './process.js';

export const NETNS_PREFIX = 'skn';
/** sh -c: mount an empty read-only tmpfs over each of the first $1 arguments, then exec the rest. */
const HIDE_SCRIPT =
  'n=$1; shift; while [ "$n" -gt 0 ]; do mount -t tmpfs -o ro,size=64k,mode=0555 skn-hidden "$1" || exit 97; shift; n=$((n-1)); done; exec "$@"';
const IFNAMSIZ = 15;

export interface NetnsHost {
  /** The test's name for it, e.g. 'cp' or 'a1'. */
  readonly name: string;
  /** The network namespace, `<prefix>-<name>`. */
  readonly ns: string;
  readonly ip: string;
  /** Its veth end inside the namespace. */
  readonly dev: string;
  /** The veth end on the switch (what `cut` sets down). */
  readonly switchDev: string;
}

export interface NetnsRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface NetnsLab {
  readonly prefix: string;
  /** e.g. 10.213.7.0/24 */
  readonly subnet: string;
  /** The test process's own address on the lab network. */
  readonly operatorIp: string;
  readonly hosts: ReadonlyMap<string, NetnsHost>;
  host(name: string): NetnsHost;
  /**
   * Start a long-running process inside the host's namespace (own process group, stopped by PID).
   * `hide`: directories this process (and its children) sees empty and read-only, as if they were
   * another machine's disk (an empty tmpfs over each, in the private mount namespace `ip netns exec` makes).
   */
  spawn(host: string, command: string, args: string[], options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string; hide?: string[] }): Daemon;
  /** Run a command to completion inside the host's namespace. */
  run(host: string, command: string, args: string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<NetnsRun>;
  /** Pull the host's cable: its switch port goes down. */
  cut(host: string): void;
  restore(host: string): void;
  /** PIDs of every process inside the host's namespace. */
  pids(host: string): number[];
  /** Kill every process in every namespace of the lab, delete the namespaces. Idempotent. */
  destroy(): Promise<void>;
}

/** Why netns tests cannot run here (for `skip`), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root (ip netns add)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
  } catch (err) {
    return `ip netns does not work here: ${String(err)}`;
  }
  return undefined;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryIp(args: string[]): void {
  try {
    ip(args);
  } catch {
    /* already gone */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listNetns(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

function nsPids(ns: string): number[] {
  try {
    return ip(['netns', 'pids', ns])
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/** SIGKILL everything in the namespaces, then delete them (synchronous: also used from an 'exit' handler). */
function removeNamespaces(names: string[], rootLinks: string[] = []): void {
  for (const ns of names) for (const pid of nsPids(ns)) if (pid !== process.pid) killQuietly(pid);
  for (const ns of names) tryIp(['netns', 'del', ns]);
  for (const link of rootLinks) if (existsSync(`/sys/class/net/${link}`)) tryIp(['link', 'del', link]);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/**
 * Remove namespaces and root-namespace links whose prefix names a process that no
 * longer runs (a run killed before it could clean up). Returns what it removed.
 */
export function sweepNetns(): string[] {
  const stale = (name: string) => {
    if (!name.startsWith(NETNS_PREFIX)) return false;
    const pid = netnsOwnerPid(name);
    return pid !== undefined && !alive(pid);
  };
  const namespaces = listNetns().filter(stale);
  const links = ip(['-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter(stale);
  removeNamespaces(namespaces, links);
  return [...namespaces, ...links];
}

/** Namespaces are `<prefix>-<host>`; links are `<prefix><letter><i>`: the prefix is `skn` + pid36 + 3 chars. */
function netnsOwnerPid(name: string): number | undefined {
  const dash = name.indexOf('-');
  const prefix = dash > 0 ? name.slice(0, dash) : name.replace(/(op|br|so|[hs]\d+)$/, '');
  if (!/^skn[0-9a-z]{4,}$/.test(prefix)) return undefined;
  const pid = parseInt(prefix.slice(3, -3), 36);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** A /24 under 10.0.0.0/8 that no address or route of this machine overlaps. */
export function pickSubnet(): string {
  const taken = ip(['-4', 'route', 'show', 'table', 'all'])
    .concat(ip(['-4', '-o', 'addr', 'show']))
    .match(/\b\d+\.\d+\.\d+\.\d+(?:\/\d+)?\b/g);
  const cidrs = (taken ?? []).map((c) => (c.includes('/') ? c : `${c}/32`));
  for (let attempt = 0; attempt < 200; attempt++) {
    const [a, b] = randomBytes(2);
    const candidate = `10.${200 + ((a ?? 0) % 54)}.${b ?? 0}.0/24`;
    if (!cidrs.some((c) => overlaps(c, candidate))) return candidate;
  }
  throw new Error('no free private /24 under 10.200.0.0/13');
}

function toInt(addr: string): number {
  return addr.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function overlaps(a: string, b: string): boolean {
  const [aa, al] = a.split('/');
  const [ba, bl] = b.split('/');
  const len = Math.min(Number(al ?? 32), Number(bl ?? 32));
  if (len === 0) return false; // the default route is not an address range anyone uses
  const mask = len === 32 ? 0xffffffff : ~((1 << (32 - len)) - 1) >>> 0;
  return (toInt(aa ?? '') & mask) >>> 0 === (toInt(ba ?? '') & mask) >>> 0;
}

export interface NetnsLabOptions {
  /** Host names, e.g. ['cp', 'a1', 'a2', 'a3']; address <subnet>.<10+index>. */
  hosts: string[];
  /** Give the test process a leg on the lab network (default true). */
  operator?: boolean;
}

export function createNetnsLab(options: NetnsLabOptions): NetnsLab {
  const unavailable = netnsUnavailable();
  if (unavailable) throw new Error(unavailable);
  sweepNetns();
  const prefix = `${NETNS_PREFIX}${process.pid.toString(36)}${randomBytes(3).toString('hex').slice(0, 3)}`;
  const sw = `${prefix}-sw`;
  const bridge = `${prefix}br`;
  const opDev = `${prefix}op`;
  const subnet = pickSubnet();
  const base = subnet.slice(0, subnet.lastIndexOf('.') + 1);
  const operator = options.operator ?? true;
  const hosts = new Map<string, NetnsHost>();
  options.hosts.forEach((name, i) => {
    if (!/^[a-z][a-z0-9]{0,15}$/.test(name)) throw new Error(`bad netns host name '${name}'`);
    hosts.set(name, { name, ns: `${prefix}-${name}`, ip: `${base}${10 + i}`, dev: `${prefix}h${i}`, switchDev: `${prefix}s${i}` });
  });
  for (const h of hosts.values()) if (h.switchDev.length > IFNAMSIZ) throw new Error(`interface name ${h.switchDev} is longer than ${IFNAMSIZ}`);
  const namespaces = [sw, ...[...hosts.values()].map((h) => h.ns)];
  const rootLinks = operator ? [opDev] : [];
  const daemons = new Set<Daemon>();
  let destroyed = false;

  // A reaper outlives a test process killed with SIGKILL: its stdin is our pipe, EOF means we are gone.
  const script = `cat >/dev/null; for ns in ${namespaces.join(' ')}; do ip netns pids $ns 2>/dev/null | xargs -r kill -9; ip netns del $ns 2>/dev/null; done; ${rootLinks.map((l) => `ip link del ${l} 2>/dev/null;`).join(' ')} true`;
  const reaper: ChildProcess = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  reaper.unref();
  (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  // Its group: the reaper and the `cat` waiting on our pipe.
  const stopReaper = () => reaper.pid !== undefined && killQuietly(-reaper.pid);
  const onExit = () => removeNamespaces(namespaces, rootLinks);
  process.on('exit', onExit);

  const get = (name: string): NetnsHost => {
    const h = hosts.get(name);
    if (!h) throw new Error(`no netns host '${name}' (have ${[...hosts.keys()].join(', ')})`);
    return h;
  };

  const lab: NetnsLab = {
    prefix,
    subnet,
    operatorIp: `${base}254`,
    hosts,
    host: get,
    spawn(host, command, args, opts) {
      const hide = opts.hide ?? [];
      const argv = hide.length ? ['sh', '-c', HIDE_SCRIPT, 'sh', String(hide.length), ...hide, command, ...args] : [command, ...args];
      const d = startDaemon('ip', ['netns', 'exec', get(host).ns, ...argv], opts);
      daemons.add(d);
      return d;
    },
    run(host, command, args, opts = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn('ip', ['netns', 'exec', get(host).ns, command, ...args], {
          env: { ...process.env, ...opts.env },
          cwd: opts.cwd,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
    cut(host) {
      ip(['-n', sw, 'link', 'set', get(host).switchDev, 'down']);
    },
    restore(host) {
      ip(['-n', sw, 'link', 'set', get(host).switchDev, 'up']);
    },
    pids(host) {
      return nsPids(get(host).ns);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await Promise.all([...daemons].map((d) => d.stop(3000)));
      removeNamespaces(namespaces, rootLinks);
      process.off('exit', onExit);
      stopReaper();
    },
  };

  try {
    ip(['netns', 'add', sw]);
    ip(['-n', sw, 'link', 'add', bridge, 'type', 'bridge']);
    ip(['-n', sw, 'link', 'set', bridge, 'up']);
    for (const h of hosts.values()) {
      ip(['netns', 'add', h.ns]);
      ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
      ip(['link', 'add', h.dev, 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.switchDev, 'netns', sw]);
      ip(['-n', sw, 'link', 'set', h.switchDev, 'master', bridge, 'up']);
      ip(['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', h.dev]);
      ip(['-n', h.ns, 'link', 'set', h.dev, 'up']);
    }
    if (operator) {
      ip(['link', 'add', opDev, 'type', 'veth', 'peer', 'name', `${prefix}so`, 'netns', sw]);
      ip(['-n', sw, 'link', 'set', `${prefix}so`, 'master', bridge, 'up']);
      ip(['addr', 'add', `${lab.operatorIp}/24`, 'dev', opDev]);
      ip(['link', 'set', opDev, 'up']);
    }
  } catch (err) {
    removeNamespaces(namespaces, rootLinks);
    process.off('exit', onExit);
    stopReaper();
    throw err;
  }
  return lab;
}
