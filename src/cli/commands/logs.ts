/** `skyctl logs JOB`: streams the job's logs route (DESIGN §4) to stdout. */
import type { Command } from 'commander';
import { jobNameArg } from '../resource-args.js';
import type { ApiObject } from '../../client/core.js';
import { sleep } from '../../lib/index.js';
import { UsageError, connect, optionsOf, type Io, type Session } from '../runtime.js';
import { intArg } from './flags.js';

export function registerLogs(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('logs')
      .description("Print the logs of a job's replicas (all clusters, all tasks unless narrowed)")
      .argument('<job>', 'job name, or job/NAME')
      .option('-f, --follow', 'keep streaming new output until the job ends (Ctrl-C to stop)')
      .option('--tail <n>', 'only the last N lines of each replica', intArg('--tail'))
      .option('--cluster <cluster>', 'only replicas on this cluster')
      .option('--task <task>', 'only this task (replica), e.g. hello-0')
      .addHelpText(
        'after',
        `
Examples:
  skyctl logs hello
  skyctl logs job/hello
  skyctl logs train -f --tail 20 -n ml
  skyctl logs train --cluster gpu-a --task train-1`,
      ),
  ).action(async (job: string, _o: unknown, cmd: Command) => {
    const o = optionsOf(cmd);
    if (typeof o.tail === 'number' && o.tail < 0) throw new UsageError(`--tail must be 0 or more, got ${o.tail}`);
    const session = connect(cmd, io);
    const name = jobNameArg(job);
    if (o.follow === true && !(await placedOrDone(io, session, name))) return; // Ctrl-C while waiting
    const chunks = session.client.logs(session.namespace, name, {
      follow: o.follow === true,
      tail: typeof o.tail === 'number' ? o.tail : undefined,
      cluster: typeof o.cluster === 'string' ? o.cluster : undefined,
      task: typeof o.task === 'string' ? o.task : undefined,
      signal: io.signal,
    });
    // The client ends the stream quietly on abort, so Ctrl-C during -f exits 0.
    for await (const chunk of chunks) io.stdout.write(chunk);
  });
}

/**
 * `logs -f` of a job no cluster has taken yet waits until one has (the server
 * has no logs to stream before), saying so once on stderr. False when Ctrl-C
 * ended the wait. A finished or placed job goes straight to the stream.
 */
async function placedOrDone(io: Io, s: Session, name: string): Promise<boolean> {
  let said = false;
  for (;;) {
    const job = await s.client.get<ApiObject>('jobs', name, { namespace: s.namespace, signal: io.signal });
    const status = (job.status ?? {}) as { phase?: string; placements?: Record<string, unknown> };
    if (Object.keys(status.placements ?? {}).length > 0 || status.phase === 'COMPLETED' || status.phase === 'FAILED') return true;
    if (!said) io.stderr.write(`Waiting for job '${s.namespace}/${name}' to be placed on a cluster (${status.phase ?? 'PENDING'})...\n`);
    said = true;
    if (!(await sleep(1000, io.signal))) return false;
  }
}
