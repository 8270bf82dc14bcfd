import { Option, type Command } from 'commander';
import { parseMemory } from '../../api/units.js';
import { MANAGER_NAMES as MANAGERS, MANAGER_NAME_ALIASES as MANAGER_ALIASES } from '../../client/core.js';
import { UsageError, connect, optionsOf, type Io } from '../runtime.js';
import { registerCreateNetwork } from './create-network.js';
import { addCreateOutputOptions, sendCreate } from './send.js';
import { alias, collect, intArg, memoryValue, numArg, pairs, pick } from './flags.js';

/** `local|slurm (slurmctl)|kubernetes (k8, k8s)|...`: the API's manager names, so the CLI offers what a Cluster may say. */
const MANAGER_CHOICES = MANAGERS.map((type) => {
  const aliases = Object.keys(MANAGER_ALIASES).filter((a) => a !== type && MANAGER_ALIASES[a] === type);
  return aliases.length ? `${type} (${aliases.join(', ')})` : type;
}).join('|');

async function send(io: Io, cmd: Command, kindName: string, body: Record<string, unknown>): Promise<void> {
  await sendCreate(io, connect(cmd, io), kindName, body, optionsOf(cmd));
}

function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function registerCreate(program: Command, io: Io, addGlobals: (c: Command, o?: { context?: boolean }) => Command): void {
  const create = program
    .command('create')
    .description('Create an object from flags (see apply -f for manifests)')
    .addHelpText(
      'after',
      `
Examples:
  skyctl create cluster laptop --manager local --cpus 4 --memory 8Gi
  skyctl create job hello --run 'echo hi' --replicas 2
  skyctl create job hello --run 'echo hi' --dry-run=client -o yaml
  skyctl create namespace ml
  skyctl create filterpolicy no-cloud -l team ml -e aws-east
  skyctl create service web -s app web -p 80 8080
  skyctl create link east-west -s gpu-a -t gpu-b`,
    );

  addGlobals(create.command('cluster'), { context: false })
    .alias('clusters')
    .description('Register a cluster')
    .argument('<name>', 'cluster name (a raw kubeconfig context name is normalised, the raw form kept for display)')
    .argument('[context]', 'kubernetes: kubeconfig context, as the original `create cluster NAME --manager k8 CONTEXT` (same as --context)')
    .option('--manager <type>', `cluster manager: ${MANAGER_CHOICES} (required, except with --agent: local or slurm, default local)`)
    .option('--agent', 'a `skyshift agent` on the machine runs this cluster: mints a join token and prints the join command')
    .option('-l, --labels <kv...>', 'labels as K V pairs (repeatable)')
    .option('--cpus <n>', 'local: cpus to offer; sim: cpus of each node', numArg('--cpus'))
    .option('--memory <size>', 'local: memory to offer, e.g. 4Gi; sim: memory of each node')
    .option('--config <path>', 'kubernetes: kubeconfig path')
    .option('--context <ctx>', 'kubernetes: kubeconfig context (the skyctl context goes before the verb: skyctl --context X create ...)')
    .option('--kube-namespace <ns>', "kubernetes: namespace for SkyShift's pods (default: the context's, else default)")
    .option('--host <host>', 'slurm: login host reached over SSH (unset: this host)')
    .option('--user <user>', 'slurm: SSH user; rest: X-SLURM-USER-NAME')
    .option('--ssh-key <path>', 'slurm: SSH private key')
    .option('--ssh-port <n>', 'slurm: SSH port of --host', intArg('--ssh-port'))
    .option('--known-hosts <path>', 'slurm: known_hosts file for --host')
    .addOption(new Option('--interface <kind>', 'slurm: cli or rest').choices(['cli', 'rest']))
    .option('--url <url>', 'slurm rest: slurmrestd URL')
    .option('--token-file <path>', 'slurm rest: JWT file')
    .option('--partition <name>', "slurm: partition for every job (default: Slurm's default)")
    .option('--slurm-conf <path>', "slurm: slurm.conf for Slurm's commands (sets SLURM_CONF)")
    .option('--nodes <n>', 'sim: number of simulated nodes', intArg('--nodes'))
    .option('--workdir <dir>', 'local, slurm: work directory for replicas')
    .option('--runtime <runtime>', 'local: podman; slurm: podman|apptainer|singularity|none (default: detected)')
    .option('--run-as <user>', 'local: the user replicas run as when SkyShift runs as root (default: nobody)')
    .option('--token-ttl-seconds <n>', 'with --agent: lifetime of the join token (default one year)', intArg('--token-ttl-seconds'))
    .option('--token-out <file>', 'with --agent: write the join token to this file (mode 0600) instead of printing it')
    .addOption(alias('-k, --ssh_key_path <path>'))
    .addOption(alias('--hostname <host>'))
    .addOption(alias('-u, --username <user>'))
    .addHelpText(
      'after',
      `
Examples:
  skyctl create cluster laptop --manager local --cpus 4 --memory 8Gi -l site home
  skyctl create cluster gpu-a --manager kubernetes --config ~/.kube/config --context gpu-a
  skyctl create cluster edge --manager k8 edge-context
  skyctl create cluster hpc --manager slurm --interface cli --host login1 --user me --ssh-key ~/.ssh/id_ed25519
  skyctl create cluster hpc-rest --manager slurm --interface rest --url http://127.0.0.1:6820 --user me --token-file ~/.skyconf/slurm.jwt
  skyctl create cluster hpc-test --manager slurm --slurm-conf /etc/slurm-test/slurm.conf --partition debug
  skyctl create cluster sim1 --manager sim --nodes 100 --cpus 8 --memory 32Gi
  skyctl create cluster lab-gpu --agent
  skyctl create cluster hpc --agent --manager slurm --token-out hpc.token`,
    )
    .action(async (name: string, contextArg: string | undefined, _o: unknown, cmd: Command) => {
      const o = cmd.opts() as Record<string, unknown>;
      if (o.manager === undefined && !o.agent) throw new UsageError("required option '--manager <type>' not specified");
      const manager = MANAGER_ALIASES[String(o.manager ?? 'local').toLowerCase()];
      if (!manager) throw new UsageError(`unsupported manager "${String(o.manager)}": use one of ${MANAGER_CHOICES.replaceAll('|', ', ')}`);
      if (contextArg !== undefined && o.context !== undefined && contextArg !== o.context)
        throw new UsageError(`the context is given twice ("${contextArg}" and --context "${String(o.context)}"): give it once`);
      if (contextArg !== undefined && manager !== 'kubernetes') throw new UsageError(`a second argument (context "${contextArg}") is for --manager kubernetes`);
      // The Python CLI's --config named a SkyShift slurm_config.yaml, which nothing reads now: refuse it rather than store a key the manager ignores.
      if (manager === 'slurm' && o.config !== undefined)
        throw new UsageError('--config is for kubernetes; for slurm use --slurm-conf PATH (slurm.conf) or the connection flags (--host, --url, ...)');
      // A sim cluster's --cpus/--memory describe each simulated node.
      // The sim's node resources are plain numbers (memory in MiB).
      const perNode =
        manager === 'sim' ? withoutUndefined({ cpus: o.cpus, memory: o.memory === undefined ? undefined : simMemory(o.memory as string) }) : undefined;
      const config = withoutUndefined({
        cpus: perNode ? undefined : o.cpus,
        memory: perNode ? undefined : memoryValue(o.memory as string | undefined),
        nodeResources: perNode && Object.keys(perNode).length > 0 ? perNode : undefined,
        kubeconfig: o.config,
        context: contextArg ?? o.context,
        namespace: o.kubeNamespace,
        host: pick(o, 'host', 'hostname'),
        user: pick(o, 'user', 'username'),
        sshKey: pick(o, 'sshKey', 'ssh_key_path'),
        port: o.sshPort,
        knownHostsFile: o.knownHosts,
        interface: o.interface,
        url: o.url,
        tokenFile: o.tokenFile,
        partition: o.partition,
        env: o.slurmConf !== undefined ? { SLURM_CONF: o.slurmConf } : undefined,
        nodes: o.nodes,
        workdir: o.workdir,
        runtime: o.runtime,
        runAs: o.runAs,
      });
      if (o.agent && manager !== 'local' && manager !== 'slurm') throw new UsageError(`an agent runs a local or slurm cluster, not ${manager}`);
      if (!o.agent && (o.tokenTtlSeconds !== undefined || o.tokenOut !== undefined))
        throw new UsageError('--token-ttl-seconds and --token-out go with --agent');
      const labels = pairs(o.labels, '--labels');
      const body = {
        kind: 'Cluster',
        metadata: withoutUndefined({ name, labels: Object.keys(labels).length ? labels : undefined }),
        spec: withoutUndefined({ manager, config: Object.keys(config).length ? config : undefined, agent: o.agent ? true : undefined }),
      };
      if (!o.agent) return send(io, cmd, 'cluster', body);
      // The agent module (token minting, join command) loads only for --agent.
      const { mintAndPrint, mintOptionsOf } = await import('./agent-token.js');
      const session = connect(cmd, io);
      await sendCreate(io, session, 'cluster', body, optionsOf(cmd));
      // A dry run creates nothing, so there is nothing to join yet.
      if (o.dryRun === undefined) await mintAndPrint(io, session, name, mintOptionsOf(o));
    });

  addGlobals(create.command('job'))
    .alias('jobs')
    .description('Submit a job')
    .argument('<name>')
    .option('--run <cmd>', 'shell command each replica runs')
    .option('--image <image>', 'container image (managers that need one default to ubuntu:22.04)')
    .option('-e, --envs <kv...>', 'environment as K V pairs (repeatable)')
    .option('-l, --labels <kv...>', 'labels as K V pairs (repeatable)')
    .option('--cpus <n>', 'cpus per replica', numArg('--cpus'), 1)
    .option('--gpus <n>', 'gpus of any type per replica', intArg('--gpus'), 0)
    .option('--memory <size>', 'memory per replica, e.g. 512Mi, 2Gi (a bare number is MiB)', '512Mi')
    .option('-a, --accelerators <type:n>', 'typed accelerators per replica, e.g. T4:1')
    .option('--replicas <n>', 'number of replicas', intArg('--replicas'), 1)
    .option('--restart-policy <policy>', 'Never|OnFailure|Always', 'Never')
    .option('--priority <n>', 'higher runs first', intArg('--priority'), 0)
    .option('--port <n>', 'port to expose (repeatable)', collect)
    .option('--max-pending-seconds <n>', 'fail the job if not placed within this time', intArg('--max-pending-seconds'))
    .addOption(alias('--restart_policy <policy>'))
    .addOption(alias('--restartPolicy <policy>'))
    .addOption(alias('--max_pending_seconds <n>'))
    .addHelpText(
      'after',
      `
Examples:
  skyctl create job hello --run 'echo hello'
  skyctl create job train --image pytorch/pytorch --run 'python train.py' -a A100:2 --replicas 4 -l team ml
  skyctl create job web --run 'python -m http.server 8080' --port 8080 --restart-policy Always`,
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const o = cmd.opts() as Record<string, unknown>;
      const restartPolicy = pick<string>(o, 'restart_policy', 'restartPolicy') ?? String(o.restartPolicy);
      if (!['Never', 'OnFailure', 'Always'].includes(restartPolicy))
        throw new UsageError(`invalid restart policy "${restartPolicy}": use Never, OnFailure or Always`);
      const resources: Record<string, unknown> = { cpus: o.cpus, memory: memoryValue(o.memory as string) };
      if ((o.gpus as number) > 0) resources.gpus = o.gpus;
      if (typeof o.accelerators === 'string') {
        const m = /^([A-Za-z0-9_-]+):(\d+)$/.exec(o.accelerators);
        if (!m) throw new UsageError(`invalid accelerator "${o.accelerators}": use TYPE:COUNT, e.g. T4:1`);
        resources[m[1] as string] = Number(m[2]);
      }
      if (o.run === undefined) throw new UsageError(`required option '--run <cmd>' not specified`);
      const ports = ((o.port as string[] | undefined) ?? []).map((p) => intArg('--port')(p));
      const maxPending =
        pick(o, 'maxPendingSeconds') ?? (o.max_pending_seconds === undefined ? undefined : intArg('--max-pending-seconds')(String(o.max_pending_seconds)));
      const labels = pairs(o.labels, '--labels');
      const envs = pairs(o.envs, '--envs');
      await send(io, cmd, 'job', {
        kind: 'Job',
        metadata: withoutUndefined({ name, labels: Object.keys(labels).length ? labels : undefined }),
        spec: withoutUndefined({
          image: o.image,
          run: o.run,
          envs: Object.keys(envs).length ? envs : undefined,
          resources,
          replicas: o.replicas,
          restartPolicy,
          priority: o.priority,
          ports: ports.length ? ports : undefined,
          maxPendingSeconds: maxPending,
        }),
      });
    });

  addGlobals(create.command('namespace'))
    .alias('namespaces')
    .alias('ns')
    .description('Create a namespace')
    .argument('<name>')
    .addHelpText(
      'after',
      `
Examples:
  skyctl create namespace ml`,
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await send(io, cmd, 'namespace', { kind: 'Namespace', metadata: { name }, spec: {} });
    });

  addGlobals(create.command('filterpolicy'))
    .aliases(['filterpolicies', 'filterPolicy', 'filterPolicies', 'fp'])
    .description('Restrict jobs whose labels match to some clusters')
    .argument('<name>')
    .option('-l, --label-selector <kv...>', 'job labels the policy applies to, as K V pairs (none: every job)')
    .option('-i, --include-cluster <cluster>', 'allowed cluster (repeatable; none: all)', collect)
    .option('-e, --exclude-cluster <cluster>', 'forbidden cluster (repeatable)', collect)
    .addOption(alias('--labelSelector <kv...>'))
    .addOption(alias('--labels_selector <kv...>'))
    .addOption(alias('--includeCluster <cluster>').argParser(collect))
    .addOption(alias('--excludeCluster <cluster>').argParser(collect))
    .addHelpText(
      'after',
      `
Examples:
  skyctl create filterpolicy ml-on-prem -l team ml -i gpu-a -i gpu-b
  skyctl create filterpolicy no-cloud -e aws-east`,
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const o = optionsOf(cmd);
      const selector = pairs([...((o.labelSelector as string[]) ?? []), ...((o.labels_selector as string[]) ?? [])], '--label-selector');
      const include = [...((o.includeCluster as string[]) ?? [])];
      const exclude = [...((o.excludeCluster as string[]) ?? [])];
      const both = include.filter((c) => exclude.includes(c));
      if (both.length) throw new UsageError(`cluster(s) cannot be both included and excluded: ${both.join(', ')}`);
      await send(io, cmd, 'filterpolicy', {
        kind: 'FilterPolicy',
        metadata: { name },
        spec: { clusterFilter: { include, exclude }, labelsSelector: selector },
      });
    });

  registerCreateNetwork(create, io, addGlobals);
  addCreateOutputOptions(create);
}

/** --memory of a sim node in MiB; a bad quantity is a usage error (exit 2), not a server's answer. */
function simMemory(value: string): number {
  try {
    return parseMemory(value, '--memory');
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
