/** The Slurm commands (sbatch, squeue, scontrol, scancel) through a Runner: locally or over SSH. */
import { arraySpec, expandArray, type SlurmBackend, type SlurmTask, type SubmitRequest } from './backend.js';
import { parseScontrolNodes, type NodeInfo } from './nodes.js';
import type { Runner } from './runner.js';

/** A separator no job name or comment SkyShift writes can contain (names are sanitised; comments carry uid and k8s-style names). */
const SEP = '\u001f';

export class SlurmCli implements SlurmBackend {
  readonly kind = 'cli' as const;
  constructor(private readonly runner: Runner) {}

  async nodes(signal?: AbortSignal): Promise<NodeInfo[]> {
    // -d adds GresUsed, which allocatable needs.
    return parseScontrolNodes(await this.runner.check(['scontrol', '-d', '-o', 'show', 'node'], { signal }));
  }

  async jobs(signal?: AbortSignal): Promise<SlurmTask[]> {
    // -r: one line per array task (pending tasks too); --states=all: finished jobs slurmctld still remembers (MinJobAge).
    const out = await this.runner.check(['squeue', '-h', '-r', '--states=all', '-o', ['%F', '%K', '%T', '%j', '%k'].join(SEP)], { signal });
    const tasks: SlurmTask[] = [];
    for (const line of out.split('\n')) {
      const [arrayJobId, taskId, state, name, comment] = line.split(SEP);
      if (!arrayJobId || !state) continue;
      const base = { arrayJobId, state, name: name ?? '', comment: comment ?? '' };
      if (taskId === undefined || taskId === 'N/A' || taskId === '') tasks.push(base);
      else for (const t of expandArray(taskId)) tasks.push({ ...base, taskId: t });
    }
    return tasks;
  }

  async submit(req: SubmitRequest): Promise<string> {
    const args = [
      'sbatch',
      '--parsable',
      `--job-name=${req.name}`,
      `--comment=${req.comment}`,
      `--array=${arraySpec(req.array)}`,
      '--ntasks=1',
      `--cpus-per-task=${req.cpusPerTask}`,
      `--output=${req.output}`,
      `--error=${req.output}`,
      `--chdir=${req.workdir}`,
      // NIL: only SLURM_* variables; the script sets the rest. SkyShift's own environment (which may
      // hold credentials) must not leak into jobs, and NONE would run `su -` on the node to load a login env.
      '--export=NIL',
    ];
    if (req.memoryMiB !== undefined) args.push(`--mem=${req.memoryMiB}M`);
    if (req.gres) args.push(`--gres=${req.gres}`);
    if (req.partition) args.push(`--partition=${req.partition}`);
    args.push(req.scriptPath);
    const out = (await this.runner.check(args)).trim();
    // --parsable prints `jobid` or `jobid;cluster`.
    const id = out.split('\n').pop()?.split(';')[0]?.trim() ?? '';
    if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${out}`);
    return id;
  }

  async cancel(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const r = await this.runner.run(['scancel', ...ids]);
    // scancel exits non-zero for ids that already finished ("Invalid job id specified"): the goal is reached.
    if (r.code !== 0 && !/Invalid job id|already completing or completed|Job has already finished/i.test(r.stderr)) {
      throw new Error(`scancel on ${this.runner.where}: ${r.stderr.trim() || `exit code ${r.code}`}`);
    }
  }
}
