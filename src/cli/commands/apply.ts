import type { Command } from 'commander';
import { isDeepStrictEqual } from 'node:util';
import { ApiError, UnreachableError, resolveKindName, type ApiObject, type SkyShiftClient } from '../../client/core.js';
import { readManifests, type Manifest } from '../manifests.js';
import { ReportedFailure, UsageError, connect, kindOrFail, optionsOf, singularOf, type Io } from '../runtime.js';
import { DRY_RUN_HELP, dryRunSuffix, parseDryRun, type DryRun } from '../resource-args.js';
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

/** What the server would store, without the fields every write changes. */
function comparable(obj: ApiObject): unknown {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  void _rv;
  return { ...obj, metadata: meta };
}

/** `kind/name` for reports, even when the kind is unknown. */
export function refOf(m: Manifest): string {
  const name = String((m.object.metadata as Record<string, unknown>).name);
  const kind = resolveKindName(String(m.object.kind));
  return `${kind ? singularOf(kind) : String(m.object.kind).toLowerCase()}/${name}`;
}

/**
 * Creates or replaces one object. "unchanged" only when the server's own
 * answer says so: a dry-run PUT is compared with the stored object, so a
 * document the server would reject is an error, never "unchanged".
 */
export async function applyOne(
  client: SkyShiftClient,
  m: Manifest,
  defaultNamespace: string,
  signal: AbortSignal,
  dryRun: DryRun = 'none',
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
    if (dryRun !== 'client') await client.create(kind, desired, { namespace, signal, dryRun: dryRun === 'server' });
    return { ref, result: 'created' };
  }
  // status is the controllers' to write; a PUT with ours would be ignored at best.
  const { status: _ignored, ...body } = desired;
  void _ignored;
  const put = { ...body, metadata: { ...meta, resourceVersion: existing.metadata.resourceVersion } } as ApiObject;
  if (dryRun === 'client') {
    const sameMeta = isSubset(meta.labels ?? {}, existing.metadata.labels ?? {}) && isSubset(meta.annotations ?? {}, existing.metadata.annotations ?? {});
    return { ref, result: sameMeta && isSubset(desired.spec ?? {}, existing.spec) ? 'unchanged' : 'configured' };
  }
  const wouldBe = await client.update(kind, put, { namespace, signal, dryRun: true });
  if (isDeepStrictEqual(comparable(wouldBe), comparable(existing))) return { ref, result: 'unchanged' };
  if (dryRun === 'none') await client.update(kind, put, { namespace, signal });
  return { ref, result: 'configured' };
}

export function registerApply(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('apply')
      .description('Create or update objects from manifests')
      .requiredOption('-f, --filename <path>', 'file, directory (every .yaml/.yml/.json) or - for stdin (repeatable)', collect)
      .option('--dry-run [strategy]', DRY_RUN_HELP)
      .addHelpText(
        'after',
        `
Examples:
  skyctl apply -f job.yaml
  skyctl apply -f manifests/
  skyctl apply -f job.yaml --dry-run=server
  cat cluster.yaml | skyctl apply -f -`,
      ),
  ).action(async (_o: unknown, cmd: Command) => {
    const opts = optionsOf(cmd);
    const dryRun = parseDryRun(opts.dryRun);
    const manifests = await readManifests(opts.filename as string[], io.stdin);
    if (manifests.length === 0) throw new UsageError('no objects passed to apply');
    const session = connect(cmd, io);
    let failed = 0;
    await withSpinner(io, `Applying ${manifests.length} objects`, manifests.length > 3, async (progress) => {
      for (const [i, m] of manifests.entries()) {
        progress(`Applying ${i + 1}/${manifests.length}`);
        try {
          const { ref, result } = await applyOne(session.client, m, session.namespace, io.signal, dryRun);
          io.stdout.write(`${ref} ${result}${dryRunSuffix(dryRun)}\n`);
        } catch (err) {
          // An unreachable server fails every document alike: say it once.
          if (err instanceof UnreachableError || !(err instanceof ApiError || err instanceof UsageError)) throw err;
          failed++;
          const why = err instanceof ApiError ? `Error from server (${err.reason}): ${err.message}` : err.message;
          io.stderr.write(`error: ${refOf(m)}: ${why} (${m.source}, document ${m.index})\n`);
        }
      }
    });
    if (failed > 0) throw new ReportedFailure(`${failed} of ${manifests.length} objects failed`);
  });
}
