/** Renders objects for `get` in the chosen -o format. Pure: returns text. */
import { styleText } from 'node:util';
import YAML from 'yaml';
import type { ApiObject } from '../../client/core.js';
import { buildTable } from './columns.js';
import { printColumns, type Styler } from './table.js';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';
export const OUTPUT_FORMATS: readonly string[] = ['wide', 'json', 'yaml', 'name'];

export interface RenderOptions {
  format: OutputFormat;
  kind: string;
  singular: string;
  withNamespace: boolean;
  color: boolean;
  now?: Date;
}

/** Reference colours: READY/RUNNING/ACTIVE green, ERROR/FAILED red, COMPLETED cyan, others yellow. */
export function statusColor(status: string): 'green' | 'red' | 'cyan' | 'yellow' {
  if (['READY', 'RUNNING', 'ACTIVE'].includes(status)) return 'green';
  if (['ERROR', 'FAILED', 'EVICTED'].includes(status)) return 'red';
  if (['COMPLETED', 'COMPLETE'].includes(status)) return 'cyan';
  return 'yellow';
}

export function statusStyler(statusColumn: number): Styler {
  return (col, text) => (col === statusColumn && text ? styleText(statusColor(text), text) : text);
}

export function renderTable(objects: readonly ApiObject[], options: RenderOptions): { headers: string[]; rows: string[][]; text: string } {
  const table = buildTable(options.kind, objects, {
    wide: options.format === 'wide',
    withNamespace: options.withNamespace,
    now: options.now ?? new Date(),
  });
  const style = options.color && table.statusColumn >= 0 ? statusStyler(table.statusColumn) : undefined;
  return { headers: table.headers, rows: table.rows, text: printColumns(table.headers, table.rows, style) };
}

/** One object or a list (`list` set) in the non-table formats. */
export function renderData(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(data, null, 2) + '\n' : YAML.stringify(data);
}

export function renderNames(objects: readonly ApiObject[], singular: string): string {
  return objects.map((o) => `${singular}/${o.metadata.name}\n`).join('');
}
