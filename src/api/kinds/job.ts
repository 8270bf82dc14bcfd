/**
 * Job: replicas of a command or image with per-replica resources and a
 * placement (filters every chosen cluster must pass, weighted preferences).
 */
import Type from 'typebox';
import type { Cause } from '../errors.js';
import { isLabelKey, LABEL_KEY_RULE } from '../labels.js';
import { Conditions, DnsLabel, Enum, MapOf, NonEmpty, Timestamp, Obj, Port, Resources, StrMap } from '../schema.js';
import { Envelope, type KindDef } from './def.js';
import { checkJobCounts, checkJobLimits } from './job-limits.js';

export const MATCH_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export const MatchExpression = Obj({
  key: NonEmpty(),
  operator: Enum([...MATCH_OPERATORS]),
  values: Type.Array(Type.String(), { default: [] }),
});

const filterFields = {
  name: Type.Optional(DnsLabel()),
  matchLabels: StrMap({ default: {} }),
  matchExpressions: Type.Array(MatchExpression, { default: [] }),
};
export const PlacementFilter = Obj(filterFields);
export const PlacementPreference = Obj({
  ...filterFields,
  weight: Type.Integer({ minimum: 1, maximum: 100, default: 1 }),
});
export const Placement = Obj(
  {
    filters: Type.Array(PlacementFilter, { default: [] }),
    preferences: Type.Array(PlacementPreference, { default: [] }),
  },
  { default: {} },
);

export const Volume = Obj({
  containerDir: NonEmpty({ description: 'path inside the task' }),
  hostDir: Type.Optional(Type.String({ description: 'path on the node (hostPath)' })),
  type: Type.Optional(Type.String()),
  readOnly: Type.Optional(Type.Boolean()),
});

export const RESTART_POLICIES = ['Never', 'OnFailure', 'Always'] as const;
export const JOB_PHASES = ['INIT', 'PENDING', 'ACTIVE', 'COMPLETED', 'FAILED'] as const;

export const JobSpec = Obj({
  image: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._/:@-]*$',
      'x-error': 'must be an image reference like ubuntu:22.04, registry.io/team/app:v1 or app@sha256:<digest>',
    }),
  ),
  imagePullPolicy: Type.Optional(Enum(['Always', 'IfNotPresent', 'Never'])),
  run: Type.String({ default: '', description: 'shell command run by every replica' }),
  envs: StrMap({ default: {} }),
  ports: Type.Array(Port(), { default: [] }),
  replicas: Type.Integer({ minimum: 1, default: 1 }),
  resources: Resources({ default: {} }),
  restartPolicy: Enum([...RESTART_POLICIES], { default: 'Never' }),
  placement: Placement,
  priority: Type.Integer({ default: 0 }),
  volumes: MapOf(Volume, { default: {} }),
  maxPendingSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'fail instead of waiting longer for capacity' })),
  backoffLimit: Type.Optional(
    Type.Integer({ minimum: 0, description: 'restarts of a failed replica (restartPolicy OnFailure) before the job is FAILED; default 6' }),
  ),
  ttlSecondsAfterFinished: Type.Optional(
    Type.Integer({ minimum: 0, description: 'delete the job this many seconds after it turned COMPLETED or FAILED (unset: keep it)' }),
  ),
});

export const TaskDetail = Obj({
  exitCode: Type.Optional(Type.Integer({ description: 'exit status of the finished task' })),
  startedAt: Type.Optional(Timestamp()),
  finishedAt: Type.Optional(Timestamp()),
});

export const JobStatus = Obj(
  {
    phase: Enum([...JOB_PHASES], { default: 'INIT' }),
    conditions: Conditions(),
    replicaStatus: MapOf(MapOf(Type.Integer({ minimum: 0 })), {
      default: {},
      description: 'cluster -> replica state (INIT, PENDING, RUNNING, COMPLETED, FAILED, EVICTED) -> count',
    }),
    jobIds: StrMap({ default: {}, description: 'cluster -> manager-side id' }),
    taskStatus: MapOf(StrMap(), { default: {}, description: 'cluster -> task -> state' }),
    completionTime: Type.Optional(Timestamp({ description: 'when the job turned COMPLETED or FAILED' })),
    taskDetails: Type.Optional(MapOf(MapOf(TaskDetail), { description: 'cluster -> task -> exit code, start and finish time (what its manager reports)' })),
    placements: Type.Optional(
      MapOf(Type.Array(Type.Integer({ minimum: 0 })), {
        description: 'cluster -> replica ranks placed there (written by the scheduler before anything is submitted; evicted ranks are removed)',
      }),
    ),
    tasksObservedAt: Type.Optional(
      MapOf(Timestamp(), {
        description:
          'cluster -> when its skylet took the task snapshot taskStatus shows (the scheduler frees the room it held for a replica seen started only on a heartbeat taken later)',
      }),
    ),
    restarts: Type.Optional(
      MapOf(Type.Integer({ minimum: 0 }), {
        description: 'replica rank -> times it was restarted (restartPolicy OnFailure/Always)',
      }),
    ),
  },
  { default: {} },
);

export const JobSchema = Envelope('Job', true, JobSpec, JobStatus);

export type MatchExpression = Type.Static<typeof MatchExpression>;
export type PlacementFilter = Type.Static<typeof PlacementFilter>;
export type PlacementPreference = Type.Static<typeof PlacementPreference>;
export type Placement = Type.Static<typeof Placement>;
export type JobSpec = Type.Static<typeof JobSpec>;
export type JobStatus = Type.Static<typeof JobStatus>;
export type Job = Type.Static<typeof JobSchema>;
export type JobPhase = (typeof JOB_PHASES)[number];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkTerms(list: unknown, path: string, what: string, causes: Cause[]): void {
  if (!Array.isArray(list)) return;
  const names = new Set<string>();
  list.forEach((term: any, i) => {
    const at = `${path}[${i}]`;
    if (term === null || typeof term !== 'object') return;
    if (typeof term.name === 'string') {
      if (names.has(term.name)) causes.push({ field: `${at}.name`, message: `duplicate ${what} name "${term.name}"` });
      names.add(term.name);
    }
    const labels = term.matchLabels && typeof term.matchLabels === 'object' ? Object.keys(term.matchLabels) : [];
    const exprs = Array.isArray(term.matchExpressions) ? term.matchExpressions : [];
    if (labels.length === 0 && exprs.length === 0) {
      causes.push({ field: at, message: `a ${what} needs matchLabels or matchExpressions` });
    }
    for (const key of labels) {
      if (!isLabelKey(key)) causes.push({ field: `${at}.matchLabels`, message: `key "${key}" ${LABEL_KEY_RULE}` });
    }
    exprs.forEach((e: any, j: number) => {
      if (e === null || typeof e !== 'object') return;
      const ep = `${at}.matchExpressions[${j}]`;
      const values = Array.isArray(e.values) ? e.values : [];
      if ((e.operator === 'In' || e.operator === 'NotIn') && values.length === 0) {
        causes.push({ field: `${ep}.values`, message: `must not be empty for operator ${e.operator}` });
      }
      if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && values.length > 0) {
        causes.push({ field: `${ep}.values`, message: `must be empty for operator ${e.operator}` });
      }
      if (typeof e.key === 'string' && e.key !== '' && !isLabelKey(e.key)) {
        causes.push({ field: `${ep}.key`, message: LABEL_KEY_RULE });
      }
    });
  });
}

export const jobKind: KindDef = {
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  shortNames: [],
  namespaced: true,
  schema: JobSchema,
  status: JobStatus,
  countLimits: checkJobCounts,
  legacy(input, causes, warn) {
    const spec = input.spec;
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return;
    const out: Record<string, unknown> = { ...spec };
    // `env` is the original's spelling of `envs`.
    if ('env' in out) {
      if ('envs' in out) causes.push({ field: 'spec.env', message: 'specified twice (envs and env)' });
      else out.envs = out.env;
      delete out.env;
    }
    for (const k of ['primary_cluster', 'primaryCluster']) {
      if (!(k in out)) continue;
      delete out[k];
      warn(`spec.${k} is ignored (the original SkyShift ignored it too): use spec.placement to choose clusters`);
    }
    input.spec = out;
  },
  limits: checkJobLimits,
  check(obj, causes) {
    const spec = obj.spec;
    if (spec === null || typeof spec !== 'object') return;
    if (spec.envs && typeof spec.envs === 'object') {
      for (const key of Object.keys(spec.envs)) {
        // NUL and '=' are excluded by the pattern: they would split or cut the entry.
        if (!ENV_NAME.test(key)) {
          causes.push({
            field: `spec.envs.${key}`,
            message: 'invalid environment variable name: use letters, digits and _, not starting with a digit',
          });
        }
      }
    }
    const placement = spec.placement;
    if (placement && typeof placement === 'object') {
      checkTerms(placement.filters, 'spec.placement.filters', 'filter', causes);
      checkTerms(placement.preferences, 'spec.placement.preferences', 'preference', causes);
    }
  },
};
