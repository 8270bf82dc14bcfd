/** `skyctl logs JOB`: streams the job's logs route (DESIGN §4) to stdout. */
import type { Command } from 'commander';
import { jobNameArg } from '../resource-args.js';
import { UsageError, connect, optionsOf, type Io } from '../runtime.js';
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
    const chunks = session.client.logs(session.namespace, jobNameArg(job), {
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
