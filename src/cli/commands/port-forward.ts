/**
 * `skyctl port-forward JOB [LOCAL:]REMOTE... [--task T] [--address A]`: local
 * TCP listeners whose every connection becomes a WebSocket to the API
 * server's port-forward route, i.e. a TCP connection to the task's port. Runs
 * until Ctrl-C, printing kubectl's lines.
 *
 * Decisions: the task is chosen once, before listening (--task, else the
 * job's first task from its status), so every connection reaches the same
 * replica; a connection the task refuses is reported and closed while the
 * listener stays (as kubectl does). `LOCAL` 0 or empty picks a free port.
 * `--address localhost` means 127.0.0.1.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Command } from 'commander';
import { rankOfTask, taskName } from '../../api/tasks.js';
import { loadStreams, type ApiObject, type StreamConnection } from '../../client/core.js';
import { jobNameArg } from '../resource-args.js';
import { UsageError, connect, optionsOf, tlsOf, type Io } from '../runtime.js';

export interface PortPair {
  local: number;
  remote: number;
}

export function registerPortForward(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('port-forward')
      .description("Forward local ports to a port of a job's task until Ctrl-C")
      .argument('<job>', 'job name, or job/NAME')
      .argument('<ports...>', 'LOCAL:REMOTE, or REMOTE (same local port), or :REMOTE (any free local port)')
      .option('--task <task>', "the task (replica) to reach, e.g. hello-0 (default: the job's first)")
      .option('--address <addresses>', 'local addresses to listen on, comma-separated', 'localhost')
      .addHelpText(
        'after',
        `
Examples:
  skyctl port-forward hello 8080:80
  skyctl port-forward hello 8080:80 --task hello-0
  skyctl port-forward web 8443:443 9090 -n prod
  skyctl port-forward web :80 --address 0.0.0.0`,
      ),
  ).action(async (job: string, ports: string[], _o: unknown, cmd: Command) => {
    const o = optionsOf(cmd);
    const pairs = ports.map(parsePortPair);
    const addresses = parseAddresses(typeof o.address === 'string' ? o.address : 'localhost');
    const session = connect(cmd, io);
    const name = jobNameArg(job, 'port-forward');
    const found = await session.client.get<ApiObject>('jobs', name, { namespace: session.namespace, signal: io.signal });
    // Chosen once, so every connection reaches the same replica; the server checks it again per connection.
    const tasks = taskNames(found);
    const id = `${session.namespace}/${name}`;
    if (tasks.length === 0) throw new Error(`job '${id}' has no tasks yet: it is not placed on any cluster`);
    const task = typeof o.task === 'string' ? o.task : tasks[0]!;
    if (!tasks.includes(task))
      throw new Error(`task '${task}' of job '${id}' not found; its tasks: ${tasks.slice(0, 5).join(', ')}${tasks.length > 5 ? ', ...' : ''}`);
    if (typeof o.task !== 'string' && tasks.length > 1) io.stderr.write(`Defaulted task "${task}" (the first of ${tasks.length}; choose one with --task)\n`);
    const conn: StreamConnection = { server: session.connection.server, token: session.connection.token, tls: tlsOf(session.connection) };
    const target = { namespace: session.namespace, job: name, task };
    const { openPortForward } = await loadStreams();
    const servers: Server[] = [];
    const sockets = new Set<Socket>();
    try {
      for (const pair of pairs) {
        for (const address of addresses) {
          const server = createServer((socket) => forward(socket, pair.remote));
          await listen(server, address, pair.local);
          servers.push(server);
          const bound = server.address();
          const port = typeof bound === 'object' && bound ? bound.port : pair.local;
          io.stdout.write(`Forwarding from ${address.includes(':') ? `[${address}]` : address}:${port} -> ${pair.remote}\n`);
        }
      }
      await new Promise<void>((resolve) => (io.signal.aborted ? resolve() : io.signal.addEventListener('abort', () => resolve(), { once: true })));
    } finally {
      for (const s of servers) s.close();
      for (const s of sockets) s.destroy();
    }

    function forward(socket: Socket, remote: number): void {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.pause();
      io.stdout.write(`Handling connection for ${socket.localPort ?? ''}\n`);
      openPortForward(conn, { ...target, port: remote }).then(
        ({ stream }) => {
          stream.on('error', () => socket.destroy());
          socket.once('close', () => stream.destroy());
          stream.once('close', () => socket.destroy());
          socket.pipe(stream).pipe(socket);
          socket.resume();
        },
        (err: unknown) => {
          io.stderr.write(`error: forwarding port ${remote} of task ${task}: ${err instanceof Error ? err.message : String(err)}\n`);
          socket.destroy();
        },
      );
    }
  });
}

/** `8080:80`, `80` (8080 -> 8080), `:80` or `0:80` (a free local port -> 80). */
export function parsePortPair(text: string): PortPair {
  const m = /^(\d{0,5}):(\d{1,5})$|^(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`invalid port '${text}': expected [LOCAL:]REMOTE, e.g. 8080:80`);
  const local = m[3] !== undefined ? Number(m[3]) : m[1] === '' ? 0 : Number(m[1]);
  const remote = Number(m[3] ?? m[2]);
  if (remote < 1 || remote > 65535) throw new UsageError(`invalid port '${text}': the remote port must be in 1..65535`);
  if (local > 65535) throw new UsageError(`invalid port '${text}': the local port must be in 0..65535`);
  return { local, remote };
}

export function parseAddresses(text: string): string[] {
  const out = new Set<string>();
  for (const part of text.split(',')) {
    const a = part.trim();
    if (!a) continue;
    out.add(a === 'localhost' ? '127.0.0.1' : a);
  }
  if (out.size === 0) throw new UsageError('--address needs at least one address');
  return [...out];
}

/** The job's tasks in rank order, from its status (where the controllers recorded them). */
export function taskNames(job: ApiObject): string[] {
  const status = (job.status ?? {}) as { taskStatus?: Record<string, Record<string, unknown>>; placements?: Record<string, unknown> };
  const names = new Set<string>();
  for (const tasks of Object.values(status.taskStatus ?? {})) if (tasks && typeof tasks === 'object') for (const t of Object.keys(tasks)) names.add(t);
  for (const ranks of Object.values(status.placements ?? {}))
    if (Array.isArray(ranks)) for (const r of ranks) if (typeof r === 'number') names.add(taskName(job.metadata.name, r));
  return [...names].sort((a, b) => (rankOfTask(a) ?? 0) - (rankOfTask(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new UsageError(`unable to listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`)),
    );
    server.listen({ host, port }, () => resolve());
  });
}
