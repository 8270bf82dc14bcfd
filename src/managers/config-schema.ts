/** Helpers the managers' config schemas and factories share. */
import Type from 'typebox';
import { ApiError, clusterConfigCauses, parseCpus, parseMemory } from '../api/index.js';
import type { TSchema } from 'typebox';
import { ManagerError } from './errors.js';

export const OptString = (description: string) => Type.Optional(Type.String({ description }));

/**
 * A number or a quantity string, as one schema rather than a union, so a bad
 * value gets one message: `pattern` applies to strings only, `exclusiveMinimum`
 * to numbers only (JSON Schema).
 */
function Quantity(pattern: string, description: string, meaning: string) {
  return Type.Optional(Type.Unsafe<number | string>({ type: ['number', 'string'], exclusiveMinimum: 0, pattern, description, 'x-error': meaning }));
}

/** cpus as a number or a Kubernetes quantity (`2`, `0.5`, `500m`): `skyctl create cluster --cpus` stores what was typed. */
export const CpuQuantity = (description: string) =>
  Quantity('^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*m?\\s*$', description, 'must be a number of cores like 2, 0.5 or 500m');

/** Memory as MiB or a quantity (`512Mi`, `2Gi`, `2GB`): `skyctl create cluster --memory 2Gi` stores the string as written. */
export const MemoryQuantity = (description: string) =>
  Quantity(
    '^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*([KMGTPEkmgtpe]i?[Bb]?|[Bb])?\\s*$',
    description,
    'must be a number of MiB or a quantity like 512Mi, 2Gi, 2GB or 1.5T',
  );

/** Throws ManagerError('Invalid') naming the cluster and every bad field (`config.<field>`). */
export function checkConfig(cluster: string, schema: TSchema, config: unknown): void {
  const causes = clusterConfigCauses(schema, config, 'config');
  if (causes.length > 0) throw new ManagerError('Invalid', `cluster '${cluster}': ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`);
}

/** A quantity already checked by the schema, in the unit the manager counts in (cores, MiB). */
export function quantity(cluster: string, value: number | string | undefined, kind: 'cpus' | 'memory'): number | undefined {
  if (value === undefined) return undefined;
  try {
    return kind === 'cpus' ? parseCpus(value, `config.${kind}`) : parseMemory(value, `config.${kind}`);
  } catch (err) {
    if (err instanceof ApiError) throw new ManagerError('Invalid', `cluster '${cluster}': ${err.message}`);
    throw err;
  }
}
