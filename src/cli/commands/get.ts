import type { Command } from 'commander';
import type { ApiObject, KindInfo } from '../../client/index.js';
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
import { UsageError, connect, kindOrFail, optionsOf, singularOf, type Io, type Session } from '../runtime.js';

export function parseOutput(value: string | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if (!OUTPUT_FORMATS.includes(value))
    throw new UsageError(`unable to match a printer suitable for the output format "${value}", allowed formats are: ${OUTPUT_FORMATS.join(',')}`);
  return value as OutputFormat;
}

export function registerGet(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('get')
      .description('Display one or many objects')
      .argument('<kind>', 'kind: clusters, jobs, namespaces, filterpolicies, services, links, endpoints, events, leases (singular and short names work)')
      .argument('[name]', 'one object by name')
      .option('-o, --output <format>', 'wide|json|yaml|name')
      .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
      .option('-w, --watch', 'after listing, print changes as they happen (Ctrl-C to stop)')
      .option('--for <kind/name>', 'events only: those about this object, e.g. job/hello')
      .addHelpText(
        'after',
        `
Examples:
  skyctl get clusters
  skyctl get jobs -A -o wide
  skyctl get job hello -o yaml
  skyctl get jobs -l team=ml -w
  skyctl get events -A
  skyctl get events --for job/hello`,
      ),
  ).action(async (kindName: string, name: string | undefined, _opts: unknown, cmd: Command) => {
    const opts = optionsOf(cmd);
    const format = parseOutput(opts.output as string | undefined);
    const kind = kindOrFail(kindName);
    const filter = objectFilter(kind, opts.for as string | undefined);
    const session = connect(cmd, io);
    await runGet(io, session, kind, name, format, opts.selector as string | undefined, opts.watch === true, filter);
  });
}

type Filter = (obj: ApiObject) => boolean;

/** `--for` narrows events to one involved object; other kinds reject it. */
function objectFilter(kind: KindInfo, forObject: string | undefined): Filter | undefined {
  if (forObject === undefined) return undefined;
  if (kind.kind !== 'Event') throw new UsageError('--for works only with events: skyctl get events --for KIND/NAME');
  const ref = parseInvolved(forObject);
  if (!ref) throw new UsageError(`--for "${forObject}" must be KIND/NAME, e.g. job/hello`);
  return (obj) => involves(obj, ref);
}

async function runGet(
  io: Io,
  s: Session,
  kind: KindInfo,
  name: string | undefined,
  format: OutputFormat,
  selector: string | undefined,
  watch: boolean,
  filter?: Filter,
): Promise<void> {
  const all = s.allNamespaces && kind.namespaced && name === undefined;
  const ns = kind.namespaced ? s.namespace : undefined;
  const color = io.stdout.isTTY === true && !io.env.NO_COLOR;
  const renderOpts = { format, kind: kind.kind, singular: singularOf(kind), withNamespace: all, color };
  let objects: ApiObject[];
  let listRv: string | undefined;
  if (name !== undefined) {
    const obj = await s.client.get(kind, name, { namespace: ns, signal: io.signal });
    objects = [obj];
    listRv = obj.metadata.resourceVersion;
    if (format === 'json' || format === 'yaml') io.stdout.write(renderData(obj, format));
  } else {
    const list = await s.client.list(kind, { namespace: ns, allNamespaces: all, labelSelector: selector, signal: io.signal });
    if (filter) list.items = list.items.filter(filter);
    if (kind.kind === 'Event') list.items = sortEvents(list.items);
    objects = list.items;
    listRv = list.metadata.resourceVersion;
    if (format === 'json' || format === 'yaml') io.stdout.write(renderData(list, format));
  }
  let widths: number[] = [];
  if (format === 'name') io.stdout.write(renderNames(objects, renderOpts.singular));
  else if (format === 'table' || format === 'wide') {
    if (objects.length === 0 && !watch) {
      io.stderr.write(kind.namespaced && !all ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
      return;
    }
    const table = renderTable(objects, renderOpts);
    if (objects.length > 0) io.stdout.write(table.text);
    widths = columnWidths([table.headers, ...table.rows]);
  }
  if (!watch) return;
  await watchAndPrint(io, s, kind, name, all ? undefined : ns, selector, listRv, renderOpts, widths, objects.length === 0, filter);
}

async function watchAndPrint(
  io: Io,
  s: Session,
  kind: KindInfo,
  name: string | undefined,
  ns: string | undefined,
  selector: string | undefined,
  resourceVersion: string | undefined,
  renderOpts: Parameters<typeof renderTable>[1],
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
      const f = renderOpts.format;
      if (f === 'json' || f === 'yaml') io.stdout.write(renderData(obj, f) + (f === 'yaml' ? '---\n' : ''));
      else if (f === 'name') io.stdout.write(renderNames([obj], renderOpts.singular));
      else {
        const table = renderTable([obj], renderOpts);
        const headers = table.headers;
        widths = columnWidths([widths.map((w) => ' '.repeat(w)), headers, ...table.rows]);
        if (header) {
          io.stdout.write(formatRow(headers, widths) + '\n');
          header = false;
        }
        const style = renderOpts.color ? statusStyler(headers.indexOf('STATUS')) : undefined;
        // DELETED rows are shown like kubectl does: the object's last state.
        for (const row of table.rows) io.stdout.write(formatRow(row, widths, style) + '\n');
      }
    }
  } catch (err) {
    if (io.signal.aborted) return;
    throw err;
  }
}
