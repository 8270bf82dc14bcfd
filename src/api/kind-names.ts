/**
 * The kinds' names and scope without their schemas: what a client needs to
 * build paths and a CLI needs to resolve `jobs`/`job`/`fp`. Loading the
 * schemas (TypeBox, ~2,000 modules) costs a short-lived skyctl ~200 ms, so
 * src/client and src/cli resolve names here; kind-names.test.ts keeps this
 * table equal to the registry in kinds.ts. Imports nothing.
 */

export interface KindName {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
}

const row = (kind: string, plural: string, singular: string, namespaced: boolean, shortNames: string[] = []): KindName => ({
  kind,
  listKind: `${kind}List`,
  plural,
  singular,
  shortNames,
  namespaced,
});

/** In the registry's order (kinds/index.ts). */
export const KIND_NAMES: readonly KindName[] = [
  row('Cluster', 'clusters', 'cluster', false),
  row('Namespace', 'namespaces', 'namespace', false, ['ns']),
  row('Job', 'jobs', 'job', true),
  row('FilterPolicy', 'filterpolicies', 'filterpolicy', true, ['fp']),
  row('Service', 'services', 'service', true, ['svc']),
  row('Endpoints', 'endpoints', 'endpoints', true, ['ep']),
  row('Link', 'links', 'link', false),
  row('Event', 'events', 'event', true, ['ev']),
  row('Lease', 'leases', 'lease', false),
  row('Role', 'roles', 'role', false),
  row('User', 'users', 'user', false),
];

const BY_NAME = new Map<string, KindName>();
for (const k of KIND_NAMES) for (const n of [k.plural, k.singular, k.kind.toLowerCase(), ...k.shortNames]) BY_NAME.set(n, k);

/** 'job' | 'jobs' | 'Job' | short name -> its names, as resolveKind in kinds.ts. */
export function resolveKindName(name: string): KindName | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Cluster managers and the original SkyShift's spellings of them (kinds/cluster.ts has the same, with the schema). */
export const MANAGER_NAMES = ['local', 'slurm', 'kubernetes', 'ray', 'sim'] as const;
export const MANAGER_NAME_ALIASES: Readonly<Record<string, (typeof MANAGER_NAMES)[number]>> = {
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
