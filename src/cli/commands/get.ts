import type { Command } from 'commander';
import type { ApiObject, KindName } from '../../client/core.js';
import {
  OUTPUT_FORMATS,
  columnWidths,
  formatRow,
  involves,
  parseInvolved,
  renderData,
  renderNames,
  renderTable,
  sortEvents,
  statusStyler,
  type OutputFormat,
} from '../printers/index.js';
import { JsonPathError, parsePath, renderJsonPath } from '../printers/jsonpath.js';
import { parseCustomColumns, renderCustomColumns, sortByPath, withoutHeaders, type CustomColumn } from '../printers/custom-columns.js';
import { parseObjectArgs, type ObjectRef } from '../resource-args.js';
import { UsageError, connect, optionsOf, singularOf, type Io, type Session } from '../runtime.js';

/** `-o FORMAT`, with kubectl's `jsonpath=TEMPLATE` and `custom-columns=SPEC`, plus `--no-headers` and `--sort-by`. */
export interface OutputSpec {
  format: OutputFormat | 'jsonpath' | 'custom-columns';
  template?: string;
  columns?: CustomColumn[];
  noHeaders?: boolean;
  sortBy?: string;
}

const ALL_FORMATS = [...OUTPUT_FORMATS, 'jsonpath=TEMPLATE', 'custom-columns=SPEC'];

export function parseOutput(value: string | undefined, extra: { noHeaders?: boolean; sortBy?: string } = {}): OutputSpec {
  const spec = (format: OutputSpec['format'], more: Partial<OutputSpec> = {}): OutputSpec => ({ format, ...extra, ...more });
  try {
    if (extra.sortBy !== undefined) parsePath(extra.sortBy.trim().replace(/^\{(.*)\}$/, '$1'));
    if (value === undefined) return spec('table');
    const eq = value.indexOf('=');
    const name = eq < 0 ? value : value.slice(0, eq);
    const arg = eq < 0 ? '' : value.slice(eq + 1);
    if (name === 'jsonpath' && arg !== '') {
      renderJsonPath(arg, {}); // a template that cannot parse fails before any request
      return spec('jsonpath', { template: arg });
    }
    if (name === 'custom-columns') return spec('custom-columns', { columns: parseCustomColumns(arg) });
  } catch (err) {
    if (err instanceof JsonPathError) throw new UsageError(err.message);
    throw err;
  }
  if (!OUTPUT_FORMATS.includes(value))
    throw new UsageError(`unable to match a printer suitable for the output format "${value}", allowed formats are: ${ALL_FORMATS.join(',')}`);
  return spec(value as OutputFormat);
}

export function registerGet(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('get')
      .description('Display one or many objects')
      .argument(
        '<kind>',
        'kind: clusters, jobs, namespaces, filterpolicies, services, links, endpoints, events, leases (singular and short names work); or KIND/NAME',
      )
      .argument('[names...]', 'objects by name (or more KIND/NAME)')
      .option('-o, --output <format>', 'wide|json|yaml|name|jsonpath=TEMPLATE|custom-columns=NAME:PATH,...')
      .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
      .option('-w, --watch', 'after listing, print changes as they happen (Ctrl-C to stop)')
      .option('--no-headers', 'tables and custom-columns: no header line')
      .option('--sort-by <jsonpath>', 'sort a list by this field, e.g. .metadata.creationTimestamp')
      .option('--for <kind/name>', 'events only: those about this object, e.g. job/hello')
      .addHelpText(
        'after',
        `
Examples:
  skyctl get clusters
  skyctl get jobs -A -o wide
  skyctl get job hello -o yaml
  skyctl get job/hello cluster/edge
  skyctl get jobs -l team=ml -w
  skyctl get jobs -o jsonpath='{range .items[*]}{.metadata.name}{"\\n"}{end}'
  skyctl get jobs -o custom-columns=NAME:.metadata.name,PHASE:.status.phase --sort-by=.metadata.creationTimestamp
  skyctl get events -A
  skyctl get events --for job/hello`,
      ),
  ).action(async (kindArg: string, names: string[], _opts: unknown, cmd: Command) => {
    const opts = optionsOf(cmd);
    const output = parseOutput(opts.output as string | undefined, { noHeaders: opts.headers === false, sortBy: opts.sortBy as string | undefined });
    const parsed = parseObjectArgs([kindArg, ...names]);
    const groups = groupByKind(parsed.refs);
    const watch = opts.watch === true;
    if (watch && parsed.refs.length > 1) throw new UsageError('watch is only supported on a single object or a list');
    const session = connect(cmd, io);
    if (parsed.kind) {
      const filter = objectFilter(parsed.kind, opts.for as string | undefined);
      const refNames = parsed.refs.map((r) => r.name);
      await runGet(io, session, parsed.kind, refNames, output, opts.selector as string | undefined, watch, filter);
      return;
    }
    if (opts.for !== undefined) throw new UsageError('--for works only with events: skyctl get events --for KIND/NAME');
    for (const [kind, refNames] of groups) await runGet(io, session, kind, refNames, output, undefined, watch);
  });
}

function groupByKind(refs: readonly ObjectRef[]): Map<KindName, string[]> {
  const groups = new Map<KindName, string[]>();
  for (const r of refs) groups.set(r.kind, [...(groups.get(r.kind) ?? []), r.name]);
  return groups;
}

type Filter = (obj: ApiObject) => boolean;

/** `--for` narrows events to one involved object; other kinds reject it. */
function objectFilter(kind: KindName, forObject: string | undefined): Filter | undefined {
  if (forObject === undefined) return undefined;
  if (kind.kind !== 'Event') throw new UsageError('--for works only with events: skyctl get events --for KIND/NAME');
  const ref = parseInvolved(forObject);
  if (!ref) throw new UsageError(`--for "${forObject}" must be KIND/NAME, e.g. job/hello`);
  return (obj) => involves(obj, ref);
}

async function runGet(
  io: Io,
  s: Session,
  kind: KindName,
  names: string[],
  output: OutputSpec,
  selector: string | undefined,
  watch: boolean,
  filter?: Filter,
): Promise<void> {
  const all = s.allNamespaces && kind.namespaced && names.length === 0;
  const ns = kind.namespaced ? s.namespace : undefined;
  const color = io.stdout.isTTY === true && !io.env.NO_COLOR;
  const tableFormat: OutputFormat = output.format === 'wide' ? 'wide' : 'table';
  const renderOpts = { format: tableFormat, kind: kind.kind, singular: singularOf(kind), withNamespace: all, color };
  let objects: ApiObject[];
  let listRv: string | undefined;
  let data: unknown;
  if (names.length > 0) {
    objects = [];
    for (const name of names) objects.push(await s.client.get(kind, name, { namespace: ns, signal: io.signal }));
    listRv = objects.length === 1 ? objects[0]?.metadata.resourceVersion : undefined;
    if (output.sortBy) objects = sortByPath(objects, output.sortBy);
    data = objects.length === 1 ? objects[0] : { kind: 'List', apiVersion: 'v1', metadata: {}, items: objects };
  } else {
    const list = await s.client.list(kind, { namespace: ns, allNamespaces: all, labelSelector: selector, signal: io.signal });
    if (filter) list.items = list.items.filter(filter);
    if (output.sortBy) list.items = sortByPath(list.items, output.sortBy);
    else if (kind.kind === 'Event') list.items = sortEvents(list.items);
    objects = list.items;
    listRv = list.metadata.resourceVersion;
    data = list;
  }
  let widths: number[] = [];
  const f = output.format;
  if (f === 'json' || f === 'yaml') io.stdout.write(renderData(data, f));
  else if (f === 'jsonpath') io.stdout.write(renderJsonPath(output.template ?? '', data));
  else if (f === 'custom-columns') io.stdout.write(renderCustomColumns(output.columns ?? [], objects, output.noHeaders));
  else if (f === 'name') io.stdout.write(renderNames(objects, renderOpts.singular));
  else {
    if (objects.length === 0 && !watch) {
      io.stderr.write(kind.namespaced && !all ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
      return;
    }
    const table = renderTable(objects, renderOpts);
    if (objects.length > 0) io.stdout.write(output.noHeaders ? withoutHeaders(table.rows) : table.text);
    widths = columnWidths(output.noHeaders ? table.rows : [table.headers, ...table.rows]);
  }
  if (!watch) return;
  const needHeader = objects.length === 0 && !output.noHeaders && (f === 'table' || f === 'wide');
  await watchAndPrint(io, s, kind, names[0], all ? undefined : ns, selector, listRv, renderOpts, output, widths, needHeader, filter);
}

async function watchAndPrint(
  io: Io,
  s: Session,
  kind: KindName,
  name: string | undefined,
  ns: string | undefined,
  selector: string | undefined,
  resourceVersion: string | undefined,
  renderOpts: Parameters<typeof renderTable>[1],
  output: OutputSpec,
  widths: number[],
  needHeader: boolean,
  filter?: Filter,
): Promise<void> {
  const stream = s.client.watch(kind, {
    namespace: ns,
    allNamespaces: ns === undefined && kind.namespaced,
    name,
    resourceVersion,
    labelSelector: selector,
    signal: io.signal,
  });
  let header = needHeader;
  try {
    for await (const event of stream) {
      if (event.type === 'BOOKMARK') continue;
      if (event.type === 'ERROR') {
        const st = event.object;
        throw new UsageError(`watch ended: ${st.reason ?? 'Error'}: ${st.message ?? ''}`);
      }
      const obj = event.object;
      if (filter && !filter(obj)) continue;
      const f = output.format;
      if (f === 'json' || f === 'yaml') io.stdout.write(renderData(obj, f) + (f === 'yaml' ? '---\n' : ''));
      else if (f === 'jsonpath') io.stdout.write(renderJsonPath(output.template ?? '', obj));
      else if (f === 'custom-columns') io.stdout.write(renderCustomColumns(output.columns ?? [], [obj], !header));
      else if (f === 'name') io.stdout.write(renderNames([obj], renderOpts.singular));
      else {
        const table = renderTable([obj], renderOpts);
        const headers = table.headers;
        widths = columnWidths([widths.map((w) => ' '.repeat(w)), headers, ...table.rows]);
        if (header) io.stdout.write(formatRow(headers, widths) + '\n');
        const style = renderOpts.color ? statusStyler(headers.indexOf('STATUS')) : undefined;
        // DELETED rows are shown like kubectl does: the object's last state.
        for (const row of table.rows) io.stdout.write(formatRow(row, widths, style) + '\n');
      }
      header = false;
    }
  } catch (err) {
    if (io.signal.aborted) return;
    throw err;
  }
}
