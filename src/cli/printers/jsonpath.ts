/**
 * The subset of kubectl's JSONPath templates that scripts use: `{.a.b}`,
 * `{.items[*].metadata.name}`, `[N]`, `['key']`, `..name`, string literals
 * `{"\n"}` and `{range EXPR}...{end}`. Text outside braces is printed as is;
 * several results of one expression are joined by spaces; objects print as
 * JSON. A template without braces is read as one expression, like kubectl's.
 */

export class JsonPathError extends Error {}

type Node = { type: 'text'; text: string } | { type: 'path'; path: string } | { type: 'range'; path: string; body: Node[] };

type Step = { field: string } | { index: number } | { wildcard: true } | { descend: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Splits `a{.x}b{range .y[*]}{.z}{end}` into nodes. */
export function parseTemplate(template: string): Node[] {
  const src = template.includes('{') ? template : `{${template}}`;
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{', i);
    const top = stack[stack.length - 1] as Node[];
    if (open < 0) {
      top.push({ type: 'text', text: src.slice(i) });
      break;
    }
    if (open > i) top.push({ type: 'text', text: src.slice(i, open) });
    const close = closingBrace(src, open);
    const inner = src.slice(open + 1, close).trim();
    i = close + 1;
    if (/^"(?:[^"\\]|\\.)*"$/.test(inner) || /^'[^']*'$/.test(inner)) {
      top.push({ type: 'text', text: inner.startsWith('"') ? (JSON.parse(inner) as string) : inner.slice(1, -1) });
    } else if (inner.startsWith('range ')) {
      const node: Node = { type: 'range', path: inner.slice(6).trim(), body: [] };
      top.push(node);
      stack.push(node.body);
    } else if (inner === 'end') {
      if (stack.length === 1) throw new JsonPathError(`unexpected {end} in ${template}`);
      stack.pop();
    } else {
      parsePath(inner); // fail early on a bad path
      top.push({ type: 'path', path: inner });
    }
  }
  if (stack.length > 1) throw new JsonPathError(`{range} without {end} in ${template}`);
  return root;
}

function closingBrace(src: string, open: number): number {
  let quote = '';
  for (let j = open + 1; j < src.length; j++) {
    const c = src[j];
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return j;
  }
  throw new JsonPathError(`unclosed { in ${src}`);
}

/** `.a.b[*].c`, `$.a`, `@.a`, `a.b` (the leading dot is optional), `..name`, `['k']`, `[-1]`. */
export function parsePath(path: string): Step[] {
  let p = path.trim().replace(/^[$@]/, '');
  if (p !== '' && !p.startsWith('.') && !p.startsWith('[')) p = '.' + p;
  const steps: Step[] = [];
  const re = /^(?:\.\.([A-Za-z0-9_-]+)|\.([A-Za-z0-9_-]+)|\.\*|\[\*\]|\[(-?\d+)\]|\['([^']*)'\]|\["([^"]*)"\]|\.)/;
  while (p.length > 0) {
    const m = re.exec(p);
    if (!m || m[0] === '') throw new JsonPathError(`unsupported JSONPath "${path}" at "${p}"`);
    if (m[1] !== undefined) steps.push({ descend: m[1] });
    else if (m[2] !== undefined) steps.push({ field: m[2] });
    else if (m[3] !== undefined) steps.push({ index: Number(m[3]) });
    else if (m[4] !== undefined || m[5] !== undefined) steps.push({ field: (m[4] ?? m[5]) as string });
    else if (m[0] === '.*' || m[0] === '[*]') steps.push({ wildcard: true });
    p = p.slice(m[0].length);
  }
  return steps;
}

function descend(value: unknown, name: string, out: unknown[]): void {
  if (Array.isArray(value)) for (const v of value) descend(v, name, out);
  else if (isObj(value)) {
    if (name in value) out.push(value[name]);
    for (const v of Object.values(value)) descend(v, name, out);
  }
}

/** Every value the path reaches; missing fields reach nothing. */
export function evaluate(path: string, data: unknown): unknown[] {
  let current: unknown[] = [data];
  for (const step of parsePath(path)) {
    const next: unknown[] = [];
    for (const v of current) {
      if ('field' in step) {
        if (isObj(v) && !Array.isArray(v) && step.field in v) next.push(v[step.field]);
      } else if ('index' in step) {
        if (Array.isArray(v)) {
          const at = step.index < 0 ? v.length + step.index : step.index;
          if (at >= 0 && at < v.length) next.push(v[at]);
        }
      } else if ('wildcard' in step) {
        if (Array.isArray(v)) next.push(...(v as unknown[]));
        else if (isObj(v)) next.push(...Object.values(v));
      } else descend(v, step.descend, next);
    }
    current = next;
  }
  return current;
}

export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function render(nodes: Node[], data: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.type === 'text') out += n.text;
    else if (n.type === 'path') out += evaluate(n.path, data).map(formatValue).join(' ');
    else for (const item of evaluate(n.path, data)) out += render(n.body, item);
  }
  return out;
}

/** Renders a kubectl JSONPath template against one object or a list. */
export function renderJsonPath(template: string, data: unknown): string {
  return render(parseTemplate(template), data);
}
