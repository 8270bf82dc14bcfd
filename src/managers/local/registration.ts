/** The `local` manager's entry in the registry: its config (Cluster `spec.config`) and factory. */
import Type from 'typebox';
import { defineManager } from '../registration.js';
import { CpuQuantity, MemoryQuantity, OptString, quantity } from '../config-schema.js';
import { LocalManager } from './manager.js';

export const LocalConfig = Type.Object(
  {
    cpus: CpuQuantity('cpus offered (default: the host)'),
    memory: MemoryQuantity('memory offered, MiB or e.g. 8Gi (default: the host)'),
    // What `skyshift agent` detected (nvidia-smi) or was told: advertised to the scheduler, not enforced per replica.
    gpus: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024, description: 'GPUs offered (default 0; skyshift agent detects them with nvidia-smi)' })),
    gpuType: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,31}$', description: 'type of those GPUs, e.g. A100, also offered under that name' })),
    workdir: OptString('where replicas run (default <work root>/<cluster>)'),
    runAs: OptString('the user replicas run as when SkyShift runs as root (default nobody)'),
    runtime: Type.Optional(Type.Enum(['podman'], { description: 'run jobs that name an image with podman' })),
    // Isolated podman storage (rootless setups, tests); unset means podman's default storage.
    podmanRoot: OptString('podman --root for every podman call of this cluster'),
    podmanRunroot: OptString('podman --runroot, likewise'),
  },
  { additionalProperties: false },
);

export const localManager = defineManager({
  type: 'local',
  configSchema: LocalConfig,
  create: (name, config) =>
    new LocalManager({
      ...config,
      name,
      cpus: quantity(name, config.cpus, 'cpus'),
      memory: quantity(name, config.memory, 'memory'),
    }),
});
