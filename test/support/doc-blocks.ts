/**
 * The runnable parts of a Markdown document, for the test that executes the
 * docs (test/docs-walkthroughs.test.ts). Conventions the docs follow:
 *
 *   ```sh / ```bash / ```shell / ```console   a block the test runs, in order
 *   <!-- not-run: REASON -->                  before a block: reported as skipped with REASON
 *                                             (a Kubernetes or Slurm cluster, other machines,
 *                                             $EDITOR, a command that runs until Ctrl-C)
 *   <!-- output-of: COMMAND -->               before a ```text (or bare) block: COMMAND is run
 *                                             after the blocks above it and must print a table
 *                                             of this shape (see sameShape)
 *   <!-- skyshift-up: ARGS -->                anywhere: the arguments of the `skyshift up` the
 *                                             document's reader is told to run (default none)
 *
 * Only the line right above a fence (blank lines allowed) counts as its marker.
 */

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** Set when a not-run marker precedes the block. */
  skip?: string;
  /** Set for an output block: the command whose output it shows. */
  outputOf?: string;
}

const RUN_LANGS = new Set(['sh', 'bash', 'shell', 'console']);
const MARKER = /^<!--\s*(not-run|output-of|skyshift-up):\s*(.*?)\s*-->$/;

export function parseDoc(file: string, text: string): { blocks: DocBlock[]; upArgs: string[] } {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  let upArgs: string[] = [];
  let pending: { type: string; value: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const marker = MARKER.exec(line.trim());
    if (marker) {
      if (marker[1] === 'skyshift-up') upArgs = (marker[2] ?? '').split(/\s+/).filter(Boolean);
      else pending = { type: marker[1] as string, value: marker[2] ?? '' };
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) {
      if (line.trim() !== '') pending = undefined;
      continue;
    }
    const lang = fence[1] ?? '';
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    const code = body.join('\n');
    if (RUN_LANGS.has(lang)) blocks.push({ file, line: start + 1, code, ...(pending?.type === 'not-run' ? { skip: pending.value || 'no reason given' } : {}) });
    else if (pending?.type === 'output-of') blocks.push({ file, line: start + 1, code, outputOf: pending.value });
    pending = undefined;
  }
  return { blocks, upArgs };
}

/** A kubectl-style table cut into cells at the header's column starts. */
export function tableCells(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines[0] ?? '';
  const starts: number[] = [];
  for (const m of head.matchAll(/\S+/g)) starts.push(m.index);
  const cut = (l: string) => starts.map((s, j) => l.slice(s, starts[j + 1] ?? l.length).trim());
  return { header: cut(head), rows: lines.slice(1).map(cut) };
}

/** Columns whose values change from run to run, so the docs show an example value. */
const VOLATILE = new Set(['AGE', 'LAST SEEN', 'CREATED']);

/**
 * Same shape: the same header, the same number of rows and, in every column
 * but the volatile ones (AGE), the same cells as a set, so row order (ties)
 * does not matter. Returns what differs, or undefined.
 */
export function sameShape(documented: string, actual: string): string | undefined {
  const d = tableCells(documented);
  const a = tableCells(actual);
  if (d.header.join(' ') !== a.header.join(' ')) return `header ${JSON.stringify(a.header)} is not the documented ${JSON.stringify(d.header)}`;
  if (d.rows.length !== a.rows.length) return `${a.rows.length} rows, documented ${d.rows.length}`;
  const key = (r: string[]) => r.map((c, j) => (VOLATILE.has(d.header[j] ?? '') ? '*' : c)).join(' | ');
  const want = d.rows.map(key).sort();
  const got = a.rows.map(key).sort();
  for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) return `row "${got[i]}" where the docs show "${want[i]}"`;
  return undefined;
}
