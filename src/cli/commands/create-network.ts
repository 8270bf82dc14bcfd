/** `create service` and `create link` (reference §3.2), kept apart from create.ts's compute kinds. */
import type { Command } from 'commander';
import { ApiError, type SkyShiftClient } from '../../client/core.js';
import { UsageError, connect, optionsOf, type Io } from '../runtime.js';
import { alias, pairs, pick } from './flags.js';
import { sendCreate } from './send.js';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

/** `-p 80 8080 -p 443 8443` (or `80:8080`) -> [{port, targetPort}]; a lone PORT targets itself. */
export function servicePorts(tokens: unknown): { port: number; targetPort: number }[] {
  const list = (Array.isArray(tokens) ? tokens.map(String) : []).flatMap((t) => (t.includes(':') ? t.split(':') : [t]));
  if (list.length % 2 !== 0) throw new UsageError(`--ports needs PORT TARGET pairs (or PORT:TARGET); got ${list.join(' ')}`);
  const num = (t: string): number => {
    if (!/^\d+$/.test(t)) throw new UsageError(`port "${t}" must be an integer`);
    const n = Number(t);
    if (n < 1 || n > 65535) throw new UsageError(`port ${n} is out of the valid range 1-65535`);
    return n;
  };
  const out: { port: number; targetPort: number }[] = [];
  for (let i = 0; i < list.length; i += 2) out.push({ port: num(list[i] as string), targetPort: num(list[i + 1] as string) });
  return out;
}

/** The reference checks named clusters before creating; a typo is caught now, not at reconcile time. */
async function requireCluster(client: SkyShiftClient, name: string, signal: AbortSignal): Promise<void> {
  try {
    await client.get('clusters', name, { signal });
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'NotFound') throw new ApiError('NotFound', `cluster '${name}' does not exist`);
    throw err;
  }
}

export function registerCreateNetwork(create: Command, io: Io, addGlobals: (c: Command, o?: { context?: boolean }) => Command): void {
  addGlobals(create.command('service'))
    .aliases(['services', 'svc'])
    .description('Expose the replicas of jobs whose labels match --selector, in every cluster')
    .argument('<name>')
    .option('-t, --type <type>', `${SERVICE_TYPES.join('|')} (default: ClusterIP)`)
    .option('-s, --selector <kv...>', 'job labels that back the service, as K V pairs (or K=V)')
    .option('-p, --ports <port-target...>', 'PORT TARGET_PORT pair (repeatable), e.g. -p 80 8080')
    .option('-c, --cluster <cluster>', 'primary cluster hosting the real service (default: auto)')
    .addOption(alias('--service_type <type>'))
    .addOption(alias('--service-type <type>'))
    .addOption(alias('--primary_cluster <cluster>'))
    .addOption(alias('--primary-cluster <cluster>'))
    .addHelpText(
      'after',
      `
Examples:
  skyctl create service web -s app web -p 80 8080
  skyctl create service api --type LoadBalancer -s app api -p 443 8443 -p 80 8080 -c gpu-a`,
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const o = optionsOf(cmd);
      const type = pick<string>(o, 'type', 'service_type', 'serviceType');
      if (type !== undefined && !SERVICE_TYPES.includes(type))
        throw new UsageError(`service type "${type}" is not supported: use one of ${SERVICE_TYPES.join(', ')}`);
      const selector = pairs(o.selector, '--selector');
      const ports = servicePorts(o.ports);
      let cluster = pick<string>(o, 'cluster', 'primary_cluster', 'primaryCluster');
      if (cluster === 'auto') cluster = undefined; // the reference's default spelling of "let SkyShift choose"
      const session = connect(cmd, io);
      if (cluster !== undefined) await requireCluster(session.client, cluster, io.signal);
      await sendCreate(
        io,
        session,
        'service',
        {
          kind: 'Service',
          metadata: { name },
          spec: { ...(type !== undefined && { type }), selector, ports, ...(cluster !== undefined && { primaryCluster: cluster }) },
        },
        o,
      );
    });

  addGlobals(create.command('link'))
    .alias('links')
    .description('Link the networks of two clusters (bidirectional)')
    .argument('<name>')
    .option('-s, --source <cluster>', 'one cluster (required)')
    .option('-t, --target <cluster>', 'the other cluster (required)')
    .addOption(alias('--source_cluster <cluster>'))
    .addOption(alias('--target_cluster <cluster>'))
    .addHelpText(
      'after',
      `
Examples:
  skyctl create link east-west -s gpu-a -t gpu-b`,
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const o = optionsOf(cmd);
      const source = pick<string>(o, 'source', 'source_cluster');
      const target = pick<string>(o, 'target', 'target_cluster');
      if (source === undefined) throw new UsageError(`required option '-s, --source <cluster>' not specified`);
      if (target === undefined) throw new UsageError(`required option '-t, --target <cluster>' not specified`);
      if (source === target) throw new UsageError('source and target clusters cannot be the same');
      const session = connect(cmd, io);
      await requireCluster(session.client, source, io.signal);
      await requireCluster(session.client, target, io.signal);
      await sendCreate(io, session, 'link', { kind: 'Link', metadata: { name }, spec: { sourceCluster: source, targetCluster: target } }, o);
    });
}
