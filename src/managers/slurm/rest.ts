/**
 * slurmrestd with JWT: `X-SLURM-USER-NAME` + `X-SLURM-USER-TOKEN`, the token
 * read from `tokenFile` on every request (tokens expire and get rotated by
 * whoever writes the file). The OpenAPI plugin version is discovered once per
 * connection from /openapi/v3 (falling back to probing known versions), so
 * the same code talks to 22.05 (v0.0.36-38) and newer servers; fields that
 * changed shape in v0.0.39+ (numbers as {set, number}, states as arrays,
 * environment as a list) are read tolerantly.
 */
import { readFile } from 'node:fs/promises';
import { arraySpec, expandArray, type SlurmBackend, type SlurmTask, type SubmitRequest } from './backend.js';
import type { NodeInfo } from './nodes.js';

export interface RestConfig {
  url: string;
  user: string;
  tokenFile: string;
  timeoutMs?: number;
}

const KNOWN_VERSIONS = ['v0.0.41', 'v0.0.40', 'v0.0.39', 'v0.0.38', 'v0.0.37', 'v0.0.36'];

type Json = Record<string, unknown>;

export class SlurmRest implements SlurmBackend {
  readonly kind = 'rest' as const;
  private version: string | undefined;

  constructor(private readonly config: RestConfig) {}

  private async headers(): Promise<Record<string, string>> {
    let token: string;
    try {
      token = (await readFile(this.config.tokenFile, 'utf8')).trim().replace(/^SLURM_JWT=/, '');
    } catch (err) {
      throw new Error(`cannot read JWT token file ${this.config.tokenFile}: ${(err as Error).message}`);
    }
    return { 'X-SLURM-USER-NAME': this.config.user, 'X-SLURM-USER-TOKEN': token, 'Content-Type': 'application/json', Accept: 'application/json' };
  }

  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Json> {
    const url = new URL(path, this.config.url.replace(/\/?$/, '/')).toString();
    const timeout = AbortSignal.timeout(this.config.timeoutMs ?? 15_000);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: await this.headers(),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`slurmrestd ${this.config.url} unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    let json: Json = {};
    try {
      json = text ? (JSON.parse(text) as Json) : {};
    } catch {
      if (!res.ok) throw new Error(`slurmrestd ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    const errors = Array.isArray(json['errors']) ? (json['errors'] as Json[]) : [];
    const firstError = errors.find((e) => Number(e['error_number'] ?? e['errno'] ?? 0) !== 0 || typeof e['error'] === 'string');
    if (!res.ok || firstError) {
      const msg = firstError ? String(firstError['error'] ?? firstError['description'] ?? JSON.stringify(firstError)) : text.slice(0, 200);
      const err = new Error(`slurmrestd ${method} ${path}: HTTP ${res.status}: ${msg}`) as Error & { status?: number };
      err.status = res.status;
      throw err;
    }
    return json;
  }

  /** The highest /slurm/vX version the server offers. */
  private async base(signal?: AbortSignal): Promise<string> {
    if (this.version) return `slurm/${this.version}`;
    let offered: string[] = [];
    try {
      const spec = await this.request('GET', 'openapi/v3', undefined, signal);
      const paths = Object.keys((spec['paths'] as Json | undefined) ?? {});
      offered = [...new Set(paths.map((p) => /^\/slurm\/(v\d+\.\d+\.\d+)\/diag/.exec(p)?.[1]).filter((v): v is string => !!v))];
    } catch (err) {
      if (/unreachable|token/.test((err as Error).message)) throw err;
    }
    const pick = KNOWN_VERSIONS.find((v) => offered.includes(v)) ?? offered.sort().at(-1);
    if (pick) return `slurm/${(this.version = pick)}`;
    for (const v of KNOWN_VERSIONS) {
      try {
        await this.request('GET', `slurm/${v}/ping`, undefined, signal);
        return `slurm/${(this.version = v)}`;
      } catch {
        /* try the next */
      }
    }
    throw new Error(`slurmrestd ${this.config.url} offers none of the OpenAPI versions ${KNOWN_VERSIONS.join(', ')}`);
  }

  get openapiVersion(): string | undefined {
    return this.version;
  }

  async nodes(signal?: AbortSignal): Promise<NodeInfo[]> {
    const json = await this.request('GET', `${await this.base(signal)}/nodes`, undefined, signal);
    return ((json['nodes'] as Json[] | undefined) ?? []).map((n) => {
      const state = n['state'];
      return {
        name: String(n['name'] ?? ''),
        state: Array.isArray(state) ? state.join('+') : String(state ?? 'UNKNOWN'),
        flags: Array.isArray(n['state_flags']) ? (n['state_flags'] as unknown[]).map(String) : [],
        cpus: num(n['cpus']),
        cpusAlloc: num(n['alloc_cpus']),
        memory: num(n['real_memory']),
        memoryAlloc: num(n['alloc_memory']),
        gres: String(n['gres'] ?? ''),
        gresUsed: String(n['gres_used'] ?? ''),
      };
    });
  }

  async jobs(signal?: AbortSignal): Promise<SlurmTask[]> {
    const json = await this.request('GET', `${await this.base(signal)}/jobs`, undefined, signal);
    const out: SlurmTask[] = [];
    for (const j of (json['jobs'] as Json[] | undefined) ?? []) {
      const state = j['job_state'];
      const base = {
        state: Array.isArray(state) ? String(state[0] ?? '') : String(state ?? ''),
        name: String(j['name'] ?? ''),
        comment: String(j['comment'] ?? ''),
      };
      const jobId = num(j['job_id']);
      const arrayJobId = num(j['array_job_id']);
      const taskId = j['array_task_id'];
      if (!arrayJobId) {
        out.push({ ...base, arrayJobId: String(jobId) });
      } else if (taskId !== null && taskId !== undefined && (typeof taskId === 'number' || (typeof taskId === 'object' && (taskId as Json)['set'] !== false))) {
        out.push({ ...base, arrayJobId: String(arrayJobId), taskId: num(taskId) });
      } else {
        // The still-pending remainder of an array: one record for many tasks.
        for (const t of expandArray(String(j['array_task_string'] ?? ''))) out.push({ ...base, arrayJobId: String(arrayJobId), taskId: t });
      }
    }
    return out;
  }

  async submit(req: SubmitRequest): Promise<string> {
    const base = await this.base();
    const legacy = /v0\.0\.3\d/.test(base);
    // The script sets the job's environment itself; slurmrestd requires a non-empty one.
    const environment = { PATH: '/usr/local/bin:/usr/bin:/bin' };
    const job: Json = {
      name: req.name,
      comment: req.comment,
      array: arraySpec(req.array),
      tasks: 1,
      cpus_per_task: req.cpusPerTask,
      current_working_directory: req.workdir,
      standard_output: req.output,
      standard_error: req.output,
      environment: legacy ? environment : Object.entries(environment).map(([k, v]) => `${k}=${v}`),
    };
    if (req.memoryMiB !== undefined) job['memory_per_node'] = legacy ? req.memoryMiB : { set: true, number: req.memoryMiB };
    if (req.gres) job[legacy ? 'gres' : 'tres_per_node'] = legacy ? req.gres : `gres/${req.gres}`;
    if (req.partition) job['partition'] = req.partition;
    const json = await this.request('POST', `${base}/job/submit`, { script: req.script, job });
    const id = num(json['job_id']);
    if (!id) throw new Error(`slurmrestd job/submit returned no job_id: ${JSON.stringify(json).slice(0, 300)}`);
    return String(id);
  }

  async cancel(ids: string[]): Promise<void> {
    const base = await this.base();
    for (const id of ids) {
      try {
        await this.request('DELETE', `${base}/job/${encodeURIComponent(id)}`);
      } catch (err) {
        // Already finished or unknown: the goal (not running) is reached.
        if (!/Invalid job id|already completing|already finished|not found|HTTP 404/i.test((err as Error).message)) throw err;
      }
    }
  }
}

/** Numbers arrive as plain numbers (<= v0.0.38) or `{set, infinite, number}` (v0.0.39+). */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'number' in v) return Number((v as { number: unknown }).number) || 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}
