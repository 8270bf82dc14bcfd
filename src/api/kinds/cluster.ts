/**
 * Cluster: a registered cluster, its manager type and connection config.
 * Names given in raw kubeconfig-context form are normalised (names.ts) and the
 * raw form kept in the display-name annotation.
 */
import Type, { type TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import type { Cause } from '../errors.js';
import { errorsToCauses } from '../messages.js';
import { DISPLAY_NAME_ANNOTATION, isDnsLabel, normalizeClusterName } from '../names.js';
import { Conditions, Enum, MapOf, NodeResources, Obj, Timestamp } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

/**
 * The manager names a Cluster may carry: wire vocabulary, so it lives here
 * (a manifest saying `k8s` must normalise on any server). Which of them this
 * build can run, and their config schemas, is src/managers' registry; the
 * composition root hands those schemas to registerClusterConfigSchemas.
 */
export const MANAGERS = ['local', 'slurm', 'kubernetes', 'ray', 'sim'] as const;
export type ManagerType = (typeof MANAGERS)[number];
/** Spellings accepted on input (lower-cased first) -> canonical manager. */
export const MANAGER_ALIASES: Record<string, ManagerType> = {
  local: 'local',
  slurm: 'slurm',
  slurmctl: 'slurm',
  k8: 'kubernetes',
  k8s: 'kubernetes',
  kubernetes: 'kubernetes',
  ray: 'ray',
  rayctl: 'ray',
  sim: 'sim',
};

/** The other spellings of `type` accepted on input (`k8`, `k8s` for kubernetes). */
export function managerAliases(type: ManagerType): string[] {
  return Object.keys(MANAGER_ALIASES).filter((alias) => alias !== type && MANAGER_ALIASES[alias] === type);
}

export const CLUSTER_PHASES = ['INIT', 'READY', 'ERROR', 'DELETING'] as const;

export const ClusterSpec = Obj(
  {
    // Required: the Python original defaulted to Kubernetes, which left an empty spec naming a manager that may not exist here.
    manager: Enum([...MANAGERS], { 'x-normalize': 'manager', description: 'k8 and k8s are accepted for kubernetes' }),
    config: MapOf(Type.Unknown(), {
      default: {},
      'x-normalize': 'camelKeys',
      description:
        'manager settings, e.g. kubeconfig, context (kubernetes); interface cli|rest, host, user, port, sshKey, knownHostsFile, url, tokenFile, workdir, partition, env, runtime (slurm); cpus, memory, workdir, runtime (local); nodes, nodeResources (sim). snake_case keys are accepted.',
    }),
    // DESIGN section 12: the cluster's skylet runs in `skyshift agent` on its own machine, never in the central controllers.
    agent: Type.Optional(
      Type.Boolean({
        description: 'true when a skyshift agent on the machine runs this cluster (its skylet and gateway); the central controllers then run none',
      }),
    ),
  },
  { default: {} },
);

export const ClusterStatus = Obj(
  {
    phase: Enum([...CLUSTER_PHASES], { default: 'INIT' }),
    message: Type.Optional(Type.String()),
    capacity: NodeResources(),
    allocatable: NodeResources(),
    conditions: Conditions(),
    lastHeartbeatTime: Type.Optional(Timestamp()),
    // What runs a job's image there (podman, apptainer, singularity, none), so users can tell before submitting one.
    runtime: Type.Optional(Type.String({ description: 'container runtime the cluster manager runs images with, e.g. podman, apptainer, none' })),
  },
  { default: {} },
);

export const ClusterSchema = Envelope('Cluster', false, ClusterSpec, ClusterStatus);
export type ClusterSpec = Type.Static<typeof ClusterSpec>;
export type ClusterStatus = Type.Static<typeof ClusterStatus>;
export type Cluster = Type.Static<typeof ClusterSchema>;
export type ClusterPhase = (typeof CLUSTER_PHASES)[number];

const configValidators = new Map<string, { schema: TSchema; validator: Validator }>();

/**
 * The config schema of each manager this build runs, from src/managers' registry
 * (wired by the composition root; api imports no manager). With them, a
 * Cluster's `spec.config` is validated for its manager (422 naming
 * `spec.config.<field>`); without them (a bare server in a test) any map is accepted.
 */
export function registerClusterConfigSchemas(schemas: Partial<Record<ManagerType, TSchema>>): void {
  configValidators.clear();
  for (const [manager, schema] of Object.entries(schemas)) configValidators.set(manager, { schema, validator: compiledConfigSchema(schema) });
}

const compiledSchemas = new WeakMap<TSchema, Validator>();
function compiledConfigSchema(schema: TSchema): Validator {
  let validator = compiledSchemas.get(schema);
  if (!validator) {
    validator = Compile(schema);
    compiledSchemas.set(schema, validator);
  }
  return validator;
}

/** Problems of `config` against a manager's config schema, fields under `prefix` (`spec.config`, or `config` for a manager's own message). */
export function clusterConfigCauses(schema: TSchema, config: unknown, prefix: string): Cause[] {
  const validator = compiledConfigSchema(schema);
  if (validator.Check(config)) return [];
  return errorsToCauses(validator.Errors(config), config, schema, prefix);
}

export const clusterKind: KindDef = {
  kind: 'Cluster',
  plural: 'clusters',
  singular: 'cluster',
  shortNames: [],
  namespaced: false,
  schema: ClusterSchema,
  status: ClusterStatus,
  check(obj, causes) {
    const spec = obj.spec;
    const registered = typeof spec?.manager === 'string' ? configValidators.get(spec.manager) : undefined;
    if (registered && spec.config !== null && typeof spec.config === 'object' && !Array.isArray(spec.config)) {
      causes.push(...clusterConfigCauses(registered.schema, spec.config, 'spec.config'));
    }
  },
  prepare(obj) {
    const meta = obj.metadata;
    if (!meta || typeof meta.name !== 'string' || meta.name === '' || isDnsLabel(meta.name)) return;
    if (!/[A-Za-z0-9]/.test(meta.name)) return; // left for the name check to report
    const raw = meta.name;
    meta.name = normalizeClusterName(raw);
    if (meta.annotations && typeof meta.annotations === 'object' && meta.annotations[DISPLAY_NAME_ANNOTATION] === undefined) {
      meta.annotations[DISPLAY_NAME_ANNOTATION] = raw;
    }
  },
};
