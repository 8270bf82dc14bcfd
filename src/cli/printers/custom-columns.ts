/** `-o custom-columns=NAME:.metadata.name,PHASE:.status.phase` and `--sort-by`, kubectl's way. */
import { JsonPathError, evaluate, formatValue, parsePath } from './jsonpath.js';
import { columnWidths, formatRow, printColumns } from './table.js';

export interface CustomColumn {
  header: string;
  path: string;
}

/** `{.a}` and `.a` are the same path, as kubectl takes both. */
const unbrace = (p: string): string => p.trim().replace(/^\{(.*)\}$/, '$1');

export function parseCustomColumns(spec: string): CustomColumn[] {
  if (spec.trim() === '') throw new JsonPathError('custom-columns needs NAME:PATH[,NAME:PATH...]');
  return spec.split(',').map((part) => {
    const colon = part.indexOf(':');
    if (colon <= 0 || colon === part.length - 1) throw new JsonPathError(`custom-columns entry "${part}" must be NAME:PATH`);
    const path = unbrace(part.slice(colon + 1));
    parsePath(path);
    return { header: part.slice(0, colon), path };
  });
}

/** One cell: every value the path reaches, comma-separated; `<none>` when it reaches nothing. */
export function customCell(path: string, obj: unknown): string {
  const values = evaluate(path, obj).filter((v) => v !== undefined && v !== null);
  return values.length === 0 ? '<none>' : values.map(formatValue).join(',');
}

export function renderCustomColumns(columns: readonly CustomColumn[], objects: readonly unknown[], noHeaders = false): string {
  const rows = objects.map((o) => columns.map((c) => customCell(c.path, o)));
  return noHeaders
    ? withoutHeaders(rows)
    : printColumns(
        columns.map((c) => c.header),
        rows,
      );
}

/** Rows aligned among themselves, as kubectl's --no-headers prints them. */
export function withoutHeaders(rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(rows);
  return rows.map((r) => formatRow(r, widths) + '\n').join('');
}

/** `--sort-by=.metadata.creationTimestamp`: numbers by value, everything else as text; objects without the field go last. */
export function sortByPath<T>(objects: readonly T[], path: string): T[] {
  const p = unbrace(path);
  parsePath(p);
  const keyed = objects.map((o, i) => ({ o, i, v: evaluate(p, o)[0] }));
  keyed.sort((a, b) => {
    if (a.v === undefined || b.v === undefined) return a.v === b.v ? a.i - b.i : a.v === undefined ? 1 : -1;
    if (typeof a.v === 'number' && typeof b.v === 'number') return a.v - b.v || a.i - b.i;
    const x = formatValue(a.v);
    const y = formatValue(b.v);
    return x < y ? -1 : x > y ? 1 : a.i - b.i;
  });
  return keyed.map((k) => k.o);
}
