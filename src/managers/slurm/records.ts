/**
 * SkyShift's bookkeeping on the Slurm side, in the cluster's workdir, written
 * through the Runner (so it lives next to the outputs, also over SSH):
 *
 *   <workdir>/<namespace>_<name>_<uid>/
 *       job.json       {uid, namespace, name, owner}: owner is the SkyShift cluster
 *                      (script.ts clusterOwner); a dir of another owner (two clusters
 *                      given one workdir) is skipped, one without (older) is ours
 *       submissions    one line per sbatch: `<arrayJobId> <rank,rank,...>`
 *       script-<id>.sh the batch script of a submission
 *       <rank>.out     stdout+stderr of replica <rank>
 *       <rank>.exit    its exit code, written by the script when the command ends
 *       <rank>.start   when the script started (UTC, RFC 3339), <rank>.end when the command ended
 *   <workdir>/.cancelled/<uid>   tombstone of a cancelled job: its Slurm job, still
 *                                listed by slurmctld for a while, is not an orphan
 *
 * `submissions` is what makes submit idempotent across SkyShift restarts and
 * lets tasks() report replicas Slurm has already forgotten.
 */
import type { JobRef } from '../types.js';
import type { Runner } from './runner.js';

export interface JobRecord extends JobRef {
  dir: string;
  /** rank -> array job id */
  ranks: Map<number, string>;
  /** rank -> exit code */
  exits: Map<number, number>;
  /** rank -> start and finish time (RFC 3339), from the files the batch script writes */
  starts: Map<number, string>;
  ends: Map<number, string>;
}

export function jobDirName(ref: JobRef): string {
  return `${ref.namespace}_${ref.name}_${ref.uid}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

/** Prints every job dir's files between markers in ONE command: one round trip per poll, also over SSH. */
const LIST_SCRIPT = `
for d in "$1"/*/; do
  [ -f "$d/job.json" ] || continue
  printf '@@D %s\\n' "$d"; cat "$d/job.json"; printf '\\n@@S\\n'; cat "$d/submissions" 2>/dev/null; printf '@@E\\n'
  for f in "$d"/*.exit; do [ -f "$f" ] && printf '%s %s\\n' "$(basename "$f" .exit)" "$(cat "$f")"; done
  for f in "$d"/*.start; do [ -f "$f" ] && printf 's%s %s\\n' "$(basename "$f" .start)" "$(cat "$f")"; done
  for f in "$d"/*.end; do [ -f "$f" ] && printf 'f%s %s\\n' "$(basename "$f" .end)" "$(cat "$f")"; done
done
for f in "$1"/.cancelled/*; do [ -f "$f" ] && printf '@@T %s\n' "$(basename "$f")"; done
exit 0`;

export class Records {
  constructor(
    private readonly runner: Runner,
    readonly workdir: string,
    private readonly owner?: string,
  ) {}

  dir(ref: JobRef): string {
    return `${this.workdir}/${jobDirName(ref)}`;
  }

  async ensure(ref: JobRef): Promise<string> {
    const dir = this.dir(ref);
    const meta = JSON.stringify({ uid: ref.uid, namespace: ref.namespace, name: ref.name, ...(this.owner ? { owner: this.owner } : {}) });
    // A new submit of a cancelled uid (a replica rescheduled back here) lifts its tombstone.
    await this.runner.check(
      ['sh', '-c', 'rm -f "$2/.cancelled/$3"; mkdir -p "$1" && [ -f "$1/job.json" ] || cat > "$1/job.json"', 'sh', dir, this.workdir, tombstone(ref.uid)],
      { input: meta },
    );
    return dir;
  }

  async writeFile(path: string, content: string, mode = '0644'): Promise<void> {
    await this.runner.check(['sh', '-c', 'cat > "$1.tmp" && chmod "$2" "$1.tmp" && mv -f "$1.tmp" "$1"', 'sh', path, mode], { input: content });
  }

  async addSubmission(ref: JobRef, arrayJobId: string, ranks: number[]): Promise<void> {
    await this.runner.check(['sh', '-c', 'cat >> "$1/submissions"', 'sh', this.dir(ref)], { input: `${arrayJobId} ${ranks.join(',')}\n` });
  }

  /** Forget ranks (after cancel): rewrite `submissions` without them and delete their outputs. */
  async forget(ref: JobRef, ranks: number[]): Promise<void> {
    const dir = this.dir(ref);
    const rec = (await this.list()).find((r) => r.uid === ref.uid);
    if (!rec) return;
    const byJob = new Map<string, number[]>();
    for (const [rank, id] of rec.ranks) if (!ranks.includes(rank)) byJob.set(id, [...(byJob.get(id) ?? []), rank]);
    const text = [...byJob].map(([id, rs]) => `${id} ${rs.join(',')}\n`).join('');
    await this.writeFile(`${dir}/submissions`, text);
    const files = ranks.flatMap((r) => [`${dir}/${r}.out`, `${dir}/${r}.exit`, `${dir}/${r}.start`, `${dir}/${r}.end`]);
    if (files.length > 0) await this.runner.check(['rm', '-f', '--', ...files]);
  }

  async remove(ref: JobRef): Promise<void> {
    await this.runner.check([
      'sh',
      '-c',
      'mkdir -p "$2/.cancelled" && : > "$2/.cancelled/$3" && rm -rf -- "$1"',
      'sh',
      this.dir(ref),
      this.workdir,
      tombstone(ref.uid),
    ]);
  }

  async list(signal?: AbortSignal): Promise<JobRecord[]> {
    return (await this.scan(signal)).records;
  }

  /** Records and the uids of cancelled jobs, in one round trip. */
  async scan(signal?: AbortSignal): Promise<{ records: JobRecord[]; cancelled: Set<string> }> {
    const cancelled = new Set<string>();
    const out = await this.runner.check(['sh', '-c', LIST_SCRIPT, 'sh', this.workdir], { signal });
    const records: JobRecord[] = [];
    let cur: JobRecord | undefined;
    let section: 'meta' | 'subs' | 'exits' = 'meta';
    let meta = '';
    for (const line of out.split('\n')) {
      if (line.startsWith('@@T ')) {
        cancelled.add(line.slice(4).trim());
        continue;
      }
      if (line.startsWith('@@D ')) {
        cur = {
          uid: '',
          namespace: '',
          name: '',
          dir: line.slice(4).replace(/\/$/, ''),
          ranks: new Map(),
          exits: new Map(),
          starts: new Map(),
          ends: new Map(),
        };
        section = 'meta';
        meta = '';
        continue;
      }
      if (!cur) continue;
      if (line === '@@S') {
        try {
          const { uid, namespace, name, owner } = JSON.parse(meta) as JobRef & { owner?: unknown };
          Object.assign(cur, { uid, namespace, name });
          if (owner === undefined || this.owner === undefined || owner === this.owner) records.push(cur);
          else cur = undefined; // another SkyShift cluster's job: not ours to report or cancel
        } catch {
          cur = undefined; // half-written job.json: ignore the dir this round
        }
        section = 'subs';
        continue;
      }
      if (line === '@@E') {
        section = 'exits';
        continue;
      }
      if (section === 'meta') meta += line;
      else if (section === 'subs') {
        const [id, ranks] = line.trim().split(' ');
        if (id && ranks) for (const r of ranks.split(',')) if (r !== '') cur.ranks.set(Number(r), id);
      } else if (/^[sf]\d+ /.test(line)) {
        // A start or end time: kept only when it is one (a half-written file reads as nothing).
        const [key = '', time = ''] = line.trim().split(' ');
        if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(time) && !Number.isNaN(Date.parse(time)))
          (key.startsWith('s') ? cur.starts : cur.ends).set(Number(key.slice(1)), time);
      } else {
        const [rank, code] = line.trim().split(' ');
        if (rank !== undefined && /^\d+$/.test(rank) && code !== undefined) cur.exits.set(Number(rank), Number.isInteger(Number(code)) ? Number(code) : 1);
      }
    }
    return { records, cancelled };
  }
}

/** uids are API-generated, but the file name must not be a path whatever they hold. */
function tombstone(uid: string): string {
  return uid.replace(/[^A-Za-z0-9_.-]/g, '-');
}
