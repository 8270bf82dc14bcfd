/**
 * `skyctl wait KIND NAME --for=phase=P|condition=C[=STATUS]|delete [--timeout=60s]`:
 * lists for a resourceVersion, reads the object, then watches it from there
 * (no polling). Exit 0 when the condition holds, 1 on timeout.
 */
import type { Command } from 'commander';
import { ApiError, type ApiObject, type KindName } from '../../client/core.js';
import { UsageError, connect, singularOf, type Io, type Session } from '../runtime.js';
import { namespaceFor, objectTarget } from './patch.js';

type Cond = { type: 'delete' } | { type: 'phase'; value: string } | { type: 'condition'; name: string; status: string };

export function parseFor(spec: string): Cond {
  if (spec === 'delete') return { type: 'delete' };
  const m = /^(phase|condition)=([^=]+)(?:=(.+))?$/.exec(spec);
  if (m?.[1] === 'phase' && !m[3]) return { type: 'phase', value: m[2] as string };
  if (m?.[1] === 'condition') return { type: 'condition', name: m[2] as string, status: m[3] ?? 'True' };
  throw new UsageError(`--for must be phase=PHASE, condition=TYPE[=STATUS] or delete, got "${spec}"`);
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) throw new UsageError(`--timeout must be a duration like 30s, 5m or 1h, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] as number;
  return Number(m[1]) * unit;
}

const TERMINAL = ['COMPLETED', 'FAILED'];

/** true: met; a string: can never be met (why); false: keep waiting. */
export function check(obj: ApiObject | undefined, cond: Cond): boolean | string {
  if (cond.type === 'delete') return obj === undefined;
  if (obj === undefined) return 'it was deleted';
  const status = (obj.status ?? {}) as { phase?: unknown; conditions?: { type?: unknown; status?: unknown }[] };
  if (cond.type === 'phase') {
    const phase = String(status.phase ?? '');
    if (phase.toUpperCase() === cond.value.toUpperCase()) return true;
    if (TERMINAL.includes(phase) && TERMINAL.includes(cond.value.toUpperCase())) return `it is ${phase}, which is final`;
    return false;
  }
  const found = (status.conditions ?? []).find((c) => String(c.type).toLowerCase() === cond.name.toLowerCase());
  return found !== undefined && String(found.status).toLowerCase() === cond.status.toLowerCase();
}

async function getOrUndefined(s: Session, kind: KindName, name: string, signal: AbortSignal): Promise<ApiObject | undefined> {
  try {
    return await s.client.get<ApiObject>(kind, name, { namespace: namespaceFor(kind, s), signal });
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

/** Resolves with check()'s verdict once it is not false; rejects when `signal` aborts. */
async function waitFor(s: Session, kind: KindName, name: string, cond: Cond, signal: AbortSignal): Promise<true | string> {
  const namespace = namespaceFor(kind, s);
  for (;;) {
    const list = await s.client.list(kind, { namespace, limit: 1, signal });
    let rv = list.metadata.resourceVersion;
    const current = cond.type === 'delete' ? await getOrUndefined(s, kind, name, signal) : await s.client.get<ApiObject>(kind, name, { namespace, signal });
    const first = check(current, cond);
    if (first !== false) return first;
    let gone = false;
    while (!gone) {
      for await (const ev of s.client.watch(kind, { namespace, name, resourceVersion: rv, signal })) {
        if (ev.type === 'ERROR') {
          gone = true; // history too old (410): list again
          break;
        }
        if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
        if (ev.type === 'BOOKMARK') continue;
        const verdict = check(ev.type === 'DELETED' ? undefined : ev.object, cond);
        if (verdict !== false) return verdict;
      }
      if (signal.aborted) throw signal.reason;
    }
  }
}

export function registerWait(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('wait')
      .description('Wait until an object reaches a phase, has a condition, or is deleted')
      .argument('<kind>', 'kind, or kind/name')
      .argument('[name]')
      .requiredOption('--for <condition>', 'phase=PHASE, condition=TYPE[=STATUS] (STATUS default True) or delete')
      .option('--timeout <duration>', 'give up after this long (30s, 5m, 1h)', '30s')
      .addHelpText(
        'after',
        `
Examples:
  skyctl wait job hello --for=phase=COMPLETED --timeout=60s
  skyctl wait job/hello --for=condition=Scheduled
  skyctl wait job hello --for=delete --timeout=2m`,
      ),
  ).action(async (kindArg: string, nameArg: string | undefined, opts: { for: string; timeout: string }, cmd: Command) => {
    const { kind, name } = objectTarget(kindArg, nameArg === undefined ? [] : [nameArg], 'wait');
    const cond = parseFor(opts.for);
    const ms = parseDuration(opts.timeout);
    const s = connect(cmd, io);
    const timeout = AbortSignal.timeout(Math.max(1, ms));
    const signal = AbortSignal.any([io.signal, timeout]);
    const ref = `${singularOf(kind)}/${name}`;
    let verdict: true | string;
    try {
      verdict = await waitFor(s, kind, name, cond, signal);
    } catch (err) {
      if (!timeout.aborted) throw err;
      throw new Error(`timed out waiting for the condition on ${ref} (--for=${opts.for}, --timeout=${opts.timeout})`);
    }
    if (verdict !== true) throw new Error(`${ref} will never match --for=${opts.for}: ${verdict}`);
    io.stdout.write(`${ref} condition met\n`);
  });
}
