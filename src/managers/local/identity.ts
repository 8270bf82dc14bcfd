/**
 * Who a local replica runs as, and what it sees of the host. A replica must
 * never see SkyShift's identity (DESIGN section 17): not its HOME, data dir,
 * tokens or environment.
 *
 * Decisions:
 * - SkyShift running as root: replicas run as `runAs` (default `nobody`, which
 *   every Debian machine has), with no supplementary groups and no way to
 *   regain privileges (setpriv --no-new-privs). `runAs: root` is honoured
 *   only when an operator writes it explicitly.
 * - SkyShift running as an ordinary user: replicas run as that user (nothing
 *   else is possible without privileges); `runAs` naming another user is an
 *   error. Such a replica could read that user's files; docs/security.md says
 *   so and recommends root (or podman) for shared hosts.
 * - The environment is built from nothing: a safe PATH, LANG, HOME = the
 *   replica's own work dir, USER/LOGNAME/SHELL, then the job's own variables.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ManagerError } from '../errors.js';
import { shellQuote } from './process.js';

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
  /** True when replicas run as a different user than SkyShift (SkyShift is root). */
  drop: boolean;
}

/** The default replica user when SkyShift runs as root. */
export const DEFAULT_RUN_AS = 'nobody';

/** PATH of a replica unless its job sets one: the system directories only. */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where local clusters keep their work dirs unless `config.workdir` says otherwise. */
export function defaultWorkRoot(): string {
  const configured = process.env['SKYSHIFT_WORK_ROOT'];
  if (configured) return resolve(configured);
  // As root the work dirs must be reachable by the unprivileged replica user, so not under root's 0700 HOME.
  if (process.getuid?.() === 0) return '/var/lib/skyshift/work';
  return resolve(userInfo().homedir, '.skyshift', 'clusters');
}

export async function resolveRunAs(cluster: string, configured: string | undefined): Promise<RunAs> {
  const self = userInfo();
  if (self.uid !== 0) {
    if (configured !== undefined && configured !== self.username && configured !== String(self.uid)) {
      throw new ManagerError('Invalid', `cluster '${cluster}': runAs '${configured}' needs SkyShift to run as root (it runs as '${self.username}')`);
    }
    return { name: self.username, uid: self.uid, gid: self.gid, drop: false };
  }
  const name = configured ?? DEFAULT_RUN_AS;
  const entry = await passwdEntry(name);
  if (!entry) throw new ManagerError('Invalid', `cluster '${cluster}': runAs user '${name}' does not exist on this host`);
  return { ...entry, drop: entry.uid !== 0 };
}

/** The replica's environment: nothing of SkyShift's own. */
export function replicaEnvironment(runAs: RunAs, home: string, jobEnv: Record<string, string>): Record<string, string> {
  return { PATH: SAFE_PATH, LANG: 'C.UTF-8', HOME: home, USER: runAs.name, LOGNAME: runAs.name, SHELL: '/bin/bash', ...jobEnv };
}

/**
 * The prefix that runs a command as the replica user: setpriv (util-linux,
 * present on every Debian) switches uid and gid, drops supplementary groups
 * and forbids regaining privileges through setuid programs.
 */
export function dropPrivileges(runAs: RunAs): string {
  if (!runAs.drop) return '';
  return `${['setpriv', `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', '--no-new-privs', '--'].map(shellQuote).join(' ')} `;
}

/**
 * The first directory on the way to `path` that `runAs` may not enter, with
 * its mode; undefined when every ancestor is traversable. A replica whose
 * HOME it cannot reach breaks in confusing ways, so connect() reports it.
 */
export async function unreachableAncestor(path: string, runAs: RunAs): Promise<{ dir: string; mode: string } | undefined> {
  if (!runAs.drop) return undefined;
  const dirs: string[] = [];
  for (let p = dirname(resolve(path)); ; p = dirname(p)) {
    dirs.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const dir of dirs) {
    let st;
    try {
      st = await stat(dir);
    } catch {
      return undefined; // not created yet: what we create ourselves is made traversable
    }
    const bit = st.uid === runAs.uid ? 0o100 : st.gid === runAs.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return { dir, mode: (st.mode & 0o7777).toString(8).padStart(4, '0') };
  }
  return undefined;
}

function passwdEntry(name: string): Promise<{ name: string; uid: number; gid: number } | undefined> {
  return new Promise((done) => {
    // getent asks NSS, so LDAP/SSSD users work as well as /etc/passwd ones.
    execFile('getent', ['passwd', name], { timeout: 5_000 }, (err, stdout) => {
      if (err) return done(undefined);
      const fields = stdout.split('\n', 1)[0]!.split(':');
      const uid = Number(fields[2]);
      const gid = Number(fields[3]);
      if (fields.length < 4 || !Number.isInteger(uid) || !Number.isInteger(gid)) return done(undefined);
      done({ name: fields[0]!, uid, gid });
    });
  });
}
