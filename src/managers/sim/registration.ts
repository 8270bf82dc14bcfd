/** The `sim` manager's entry in the registry: its config (Cluster `spec.config`) and factory. */
import Type from 'typebox';
import { defineManager } from '../registration.js';
import { SimManager } from './manager.js';

/** Largest simulated cluster: far beyond any benchmark (100 x 100 nodes), far below memory trouble. */
const MAX_SIM_NODES = 100_000;

export const SimConfig = Type.Object(
  {
    // The simulator builds one record per node: bounded before anything is allocated.
    nodes: Type.Integer({ minimum: 1, maximum: MAX_SIM_NODES, description: 'number of identical simulated nodes' }),
    nodeResources: Type.Record(Type.String(), Type.Number({ minimum: 0 }), { description: 'resources of each node, e.g. {cpus: 8, memory: 16384}' }),
    defaultDurationSeconds: Type.Optional(Type.Number({ minimum: 0, description: "how long a replica 'runs' when its command has no `sleep N` (default 10)" })),
    startDelaySeconds: Type.Optional(Type.Number({ minimum: 0, description: 'a submitted replica stays PENDING at least this long (a lagging backend)' })),
    pendingInAllocatable: Type.Optional(Type.Boolean({ description: "false: PENDING replicas hold no node (Slurm's view)" })),
  },
  { additionalProperties: false },
);

export const simManager = defineManager({
  type: 'sim',
  configSchema: SimConfig,
  create: (name, config, options) => new SimManager({ ...config, name, ...(options.clock ? { clock: options.clock } : {}) }),
});
