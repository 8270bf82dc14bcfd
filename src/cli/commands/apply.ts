import type { Command } from 'commander';
import { isDeepStrictEqual } from 'node:util';
import { ApiError, type ApiObject, type SkyShiftClient } from '../../client/index.js';
import { readManifests, type Manifest } from '../manifests.js';
import { ReportedFailure, UsageError, connect, kindOrFail, optionsOf, singularOf, type Io } from '../runtime.js';
import { collect } from './flags.js';
import { withSpinner } from '../spinner.js';

export type ApplyResult = 'created' | 'configured' | 'unchanged';

const camel = (k: string): string => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * True when every field the manifest sets already holds that value on the
 * server. Keys are compared in camelCase, since manifests may use the
 * reference's snake_case; values the server normalises (units) simply show as
 * a change and are settled by the PUT.
 */
export function isSubset(desired: unknown, actual: unknown): boolean {
  if (desired === null || typeof desired !== 'object') return isDeepStrictEqual(desired, actual);
  if (Array.isArray(desired)) {
    return Array.isArray(actual) && desired.length === actual.length && desired.every((d, i) => isSubset(d, actual[i]));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  const a = actual as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => isSubset(v, a[camel(k)] ?? a[k]));
}

export async function applyOne(
  client: SkyShiftClient,
  m: Manifest,
  defaultNamespace: string,
  signal: AbortSignal,
): Promise<{ ref: string; result: ApplyResult }> {
  const kind = kindOrFail(String(m.object.kind));
  const meta = { ...(m.object.metadata as Record<string, unknown>) };
  const namespace = kind.namespaced ? (typeof meta.namespace === 'string' ? meta.namespace : defaultNamespace) : undefined;
  if (namespace) meta.namespace = namespace;
  const name = String(meta.name);
  const ref = `${singularOf(kind)}/${name}`;
  const desired: Record<string, unknown> = { ...m.object, metadata: meta };
  let existing: ApiObject | undefined;
  try {
    existing = await client.get(kind, name, { namespace, signal });
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  if (!existing) {
    await client.create(kind, desired, { namespace, signal });
    return { ref, result: 'created' };
  }
  const sameMeta = isSubset(meta.labels ?? {}, existing.metadata.labels ?? {}) && isSubset(meta.annotations ?? {}, existing.metadata.annotations ?? {});
  if (sameMeta && isSubset(desired.spec ?? {}, existing.spec)) return { ref, result: 'unchanged' };
  // status is the controllers' to write; a PUT with ours would be ignored at best.
  const { status: _ignored, ...body } = desired;
  void _ignored;
  const updated = await client.update(kind, { ...body, metadata: { ...meta, resourceVersion: existing.metadata.resourceVersion } } as ApiObject, {
    namespace,
    signal,
  });
  const changed =
    updated.metadata.generation !== existing.metadata.generation ||
    !isDeepStrictEqual(updated.metadata.labels ?? {}, existing.metadata.labels ?? {}) ||
    !isDeepStrictEqual(updated.metadata.annotations ?? {}, existing.metadata.annotations ?? {});
  return { ref, result: changed || updated.metadata.generation === undefined ? 'configured' : 'unchanged' };
}

export function registerApply(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('apply')
      .description('Create or update objects from manifests')
      .requiredOption('-f, --filename <path>', 'file, directory (every .yaml/.yml/.json) or - for stdin (repeatable)', collect)
      .addHelpText(
        'after',
        `
Examples:
  skyctl apply -f job.yaml
  skyctl apply -f manifests/
  cat cluster.yaml | skyctl apply -f -`,
      ),
  ).action(async (_o: unknown, cmd: Command) => {
    const opts = optionsOf(cmd);
    const manifests = await readManifests(opts.filename as string[], io.stdin);
    if (manifests.length === 0) throw new UsageError('no objects passed to apply');
    const session = connect(cmd, io);
    let failed = 0;
    await withSpinner(io, `Applying ${manifests.length} objects`, manifests.length > 3, async (progress) => {
      for (const [i, m] of manifests.entries()) {
        progress(`Applying ${i + 1}/${manifests.length}`);
        try {
          const { ref, result } = await applyOne(session.client, m, session.namespace, io.signal);
          io.stdout.write(`${ref} ${result}\n`);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          failed++;
          io.stderr.write(`Error from server (${err.reason}): error when applying ${m.source} (document ${m.index}): ${err.message}\n`);
        }
      }
    });
    if (failed > 0) throw new ReportedFailure(`${failed} of ${manifests.length} objects failed`);
  });
}
