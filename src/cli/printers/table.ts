/**
 * kubectl-style columns (Go tabwriter look): no borders, left-aligned, at
 * least three spaces between columns, trailing spaces trimmed.
 */
export type Styler = (column: number, text: string) => string;

export const COLUMN_GAP = 3;

export function columnWidths(rows: readonly (readonly string[])[]): number[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return widths;
}

/** One line; `style` colours a cell after padding is computed from its plain text. */
export function formatRow(row: readonly string[], widths: readonly number[], style?: Styler): string {
  const last = row.length - 1;
  return row
    .map((cell, i) => {
      const shown = style ? style(i, cell) : cell;
      return i === last ? shown : shown + ' '.repeat((widths[i] ?? cell.length) - cell.length + COLUMN_GAP);
    })
    .join('')
    .trimEnd();
}

/** Returns the table text, one line per row, ending in a newline. */
export function printColumns(headers: readonly string[], rows: readonly (readonly string[])[], style?: Styler): string {
  const all = [headers, ...rows];
  const widths = columnWidths(all);
  const lines = [formatRow(headers, widths), ...rows.map((r) => formatRow(r, widths, style))];
  return lines.join('\n') + '\n';
}
