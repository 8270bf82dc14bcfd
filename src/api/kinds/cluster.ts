/**
 * Cluster: a registered cluster, its manager type and connection config.
 * Names given in raw kubeconfig-context form are normalised (names.ts) and the
 * raw form kept in the display-name annotation.
 */
import Type from 'typebox';
import { DISPLAY_NAME_ANNOTATION, isDnsLabel, normalizeClusterName } from '../names.js';
import { Conditions, Enum, MapOf, NodeResources, Obj, Timestamp } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

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

export const CLUSTER_PHASES = ['INIT', 'READY', 'ERROR', 'DELETING'] as const;

export const ClusterSpec = Obj({
  // The Python original defaulted to Kubernetes; manifests written for it omit the field.
  manager: Enum([...MANAGERS], { default: 'kubernetes', 'x-normalize': 'manager', description: 'k8 and k8s are accepted for kubernetes' }),
  config: MapOf(Type.Unknown(), {
    default: {},
    'x-normalize': 'camelKeys',
    description:
      'manager settings, e.g. kubeconfig, context (kubernetes); interface cli|rest, host, user, port, sshKey, knownHostsFile, url, tokenFile, workdir, partition, env, runtime (slurm); cpus, memory, workdir, runtime (local); nodes, nodeResources (sim). snake_case keys are accepted.',
  }),
}, { default: {} });

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

export const clusterKind: KindDef = {
  kind: 'Cluster',
  plural: 'clusters',
  singular: 'cluster',
  shortNames: [],
  namespaced: false,
  schema: ClusterSchema,
  status: ClusterStatus,
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
