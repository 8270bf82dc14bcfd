/** The `slurm` manager's entry in the registry: its config (Cluster `spec.config`) and factory. */
import Type from 'typebox';
import { defineManager } from '../registration.js';
import { OptString } from '../config-schema.js';
import { SlurmManager } from './manager.js';

export const SlurmConfig = Type.Object(
  {
    interface: Type.Optional(Type.Enum(['cli', 'rest'], { description: "cli: Slurm's commands, here or over SSH (default); rest: slurmrestd" })),
    host: OptString('login host reached over SSH (unset: this host)'),
    user: OptString('SSH user; for rest, X-SLURM-USER-NAME'),
    sshKey: OptString('SSH private key file'),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'SSH port of host' })),
    knownHostsFile: OptString('known_hosts file for host'),
    url: OptString('slurmrestd base URL (rest)'),
    tokenFile: OptString('file holding the JWT (rest)'),
    workdir: OptString('scripts, records and outputs on the Slurm side'),
    partition: OptString("partition for every job (default: Slurm's default)"),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'environment of the Slurm commands, e.g. SLURM_CONF' })),
    runtime: Type.Optional(Type.Enum(['podman', 'apptainer', 'singularity', 'none'], { description: 'how images run (default: detected)' })),
  },
  { additionalProperties: false },
);

export const slurmManager = defineManager({
  type: 'slurm',
  configSchema: SlurmConfig,
  create: (name, config, options) =>
    new SlurmManager({
      ...config,
      name,
      interface: config.interface ?? 'cli',
      // With the name, marks this cluster's Slurm jobs: two SkyShift clusters on one Slurm never touch each other's.
      clusterUid: options.uid,
    }),
});
