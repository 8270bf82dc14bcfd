/**
 * YAML bodies, decoded in time linear in the body and bounded by the limits of
 * DESIGN section 17. The `yaml` package alone is not: its duplicate-key check
 * compares every key with every other (80,000 keys took 80 s), its alias
 * resolution searches the document per alias, and its alias limit counts
 * aliases, not the bytes they expand to (1.4 MB became 140 MB). So:
 *  - tokens are counted as the lexer yields them and the parse stops at the limit;
 *  - the composer runs without `uniqueKeys`; duplicates are found here with a Set;
 *  - the document is turned into JS here, each alias costing O(1): its target's
 *    size, node count and height are memoised, so what an alias expands to is
 *    known (and refused past the limit) without expanding it.
 */
import { Composer, isAlias, isMap, isScalar, isSeq, Lexer, LineCounter, Parser, type Document, type Node } from 'yaml';
import { ApiError, badRequest } from '../api/index.js';
import { formatBytes, limits } from '../api/limits.js';
import { notFinite, tooDeepError, tooLarge, tooManyNodes } from './body-limits.js';

interface Converted {
  value: unknown;
  /** JSON characters the value takes once aliases are expanded (estimate). */
  size: number;
  /** Keys plus list items, expanded. */
  nodes: number;
  /** Levels of objects and lists, expanded (0 for a scalar). */
  height: number;
}

/** Parse one YAML document into a JSON value, or throw a 4xx naming the problem. */
export function decodeYaml(raw: string): unknown {
  let doc: Document.Parsed;
  try {
    doc = parseOne(raw);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // The yaml package recurses per level; the gauge should stop deep bodies first.
    if (err instanceof RangeError) throw badRequest('request body is nested too deeply');
    throw badRequest(`invalid YAML body: ${firstLine(err instanceof Error ? err.message : String(err))}`);
  }
  return new Converter().convert(doc.contents as Node | null, '', 1).value;
}

function parseOne(raw: string): Document.Parsed {
  const lim = limits();
  // String length counts UTF-16 units: a lower bound of the bytes, exact for ASCII manifests.
  if (raw.length > lim.maxYamlBytes) {
    throw tooLarge(`YAML body is larger than ${formatBytes(lim.maxYamlBytes)}; send large objects as JSON`);
  }
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ uniqueKeys: false });
  const docs: Document.Parsed[] = [];
  const take = (doc: Document.Parsed) => {
    docs.push(doc);
    if (docs.length > 1) throw badRequest('request body must hold exactly one YAML document, found more');
  };
  lines.addNewLine(0);
  let tokens = 0;
  const depth = new NestingGauge(lim.maxDepth);
  for (const lexeme of new Lexer().lex(raw)) {
    if (++tokens > lim.maxYamlTokens) {
      throw tooLarge(`YAML body has more than ${lim.maxYamlTokens} tokens; send large objects as JSON`);
    }
    depth.see(lexeme);
    for (const token of parser.next(lexeme)) for (const doc of composer.next(token)) take(doc);
  }
  for (const token of parser.end()) for (const doc of composer.next(token)) take(doc);
  for (const doc of composer.end()) take(doc);
  if (docs.length === 0) throw badRequest('request body must hold exactly one YAML document, found 0');
  const doc = docs[0]!;
  const err = doc.errors[0];
  if (err) {
    const at = lines.linePos(err.pos[0]);
    // The composer records its own stack overflow as a document error.
    if (/call stack/i.test(err.message)) throw badRequest(`request body is nested too deeply (line ${at.line})`);
    throw badRequest(`invalid YAML body: ${firstLine(err.message)} at line ${at.line}, column ${at.col}`);
  }
  return doc;
}

/**
 * Estimates nesting from the lexemes, so a deep body is refused before the
 * parser and composer recurse into it (they overflow the stack near 1,000
 * levels and slow down with depth): flow brackets, plus block levels as a
 * stack of indentations and the `- `/`? ` indicators on the current line.
 * The exact depth is checked again on conversion.
 */
class NestingGauge {
  private flow = 0;
  private readonly indents: number[] = [];
  private lineStart = true;
  private indent = 0;
  private onLine = 0;

  constructor(private readonly max: number) {}

  see(lexeme: string): void {
    if (lexeme === '\n') {
      this.lineStart = true;
      this.indent = 0;
      this.onLine = 0;
      return;
    }
    const c = lexeme.charCodeAt(0);
    if (c < 0x20 || lexeme[0] === '#') return; // stream/scalar markers and comments
    if (this.lineStart && /^ +$/.test(lexeme)) {
      this.indent = lexeme.length;
      return;
    }
    if (lexeme === '[' || lexeme === '{') this.flow++;
    else if (lexeme === ']' || lexeme === '}') this.flow = Math.max(0, this.flow - 1);
    if (this.flow === 0 || (this.flow === 1 && (lexeme === '[' || lexeme === '{'))) {
      if (this.lineStart && !lexeme.includes('\n')) {
        while (this.indents.length > 0 && this.indents[this.indents.length - 1]! >= this.indent) this.indents.pop();
        this.indents.push(this.indent);
      }
      if (lexeme === '-' || lexeme === '?') this.onLine++;
    }
    this.lineStart = false;
    if (this.indents.length + this.onLine + this.flow > this.max) {
      throw badRequest(`request body is nested deeper than ${this.max} levels`);
    }
  }
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

class Converter {
  private readonly lim = limits();
  /** Anchor name -> its node; a later anchor of the same name replaces it, as in YAML. */
  private readonly anchors = new Map<string, Node>();
  /** Anchored nodes already converted; absent while one is still being converted. */
  private readonly done = new Map<Node, Converted>();
  private size = 0;
  private nodes = 0;

  convert(node: Node | null, path: string, depth: number): Converted {
    if (node === null || node === undefined) return this.leaf(null, 8);
    if (isAlias(node)) return this.alias(node.source, path, depth);
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) this.anchors.set(anchor, node);
    const out = this.convertNode(node, path, depth);
    if (anchor) this.done.set(node, out);
    return out;
  }

  private alias(name: string, path: string, depth: number): Converted {
    const target = this.anchors.get(name);
    if (target === undefined) throw badRequest(`invalid YAML body: alias *${name} (at ${path || 'the top'}) names no anchor before it`);
    const got = this.done.get(target);
    if (got === undefined) throw badRequest(`invalid YAML body: alias *${name} (at ${path}) is inside the node it names`);
    if (depth + got.height - 1 > this.lim.maxDepth) throw tooDeepError(path);
    this.count(got.size, got.nodes, path, `alias *${name}`);
    return got;
  }

  /** Adds to the running totals; the first total over its limit ends the conversion. */
  private count(size: number, nodes: number, path: string, alias?: string): void {
    this.size += size;
    this.nodes += nodes;
    const at = `${alias ? `${alias} ` : ''}at ${path || 'the top'}`;
    if (this.nodes > this.lim.maxBodyNodes) {
      if (!alias) throw tooManyNodes();
      throw tooLarge(`YAML aliases expand the body to more than ${this.lim.maxBodyNodes} keys and list items (${at})`);
    }
    if (this.size > this.lim.maxExpandedBytes) {
      throw tooLarge(`YAML body expands to more than ${formatBytes(this.lim.maxExpandedBytes)} (${at}); an alias counts as often as it is used`);
    }
  }

  private leaf(value: unknown, size: number): Converted {
    return { value, size, nodes: 0, height: 0 };
  }

  private convertNode(node: Node, path: string, depth: number): Converted {
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'number' && !Number.isFinite(v)) throw notFinite(path);
      if (typeof v === 'bigint') return this.leaf(Number(v), 24);
      const size = typeof v === 'string' ? v.length + 3 : 8;
      this.count(size, 0, path);
      return this.leaf(v, size);
    }
    if (depth > this.lim.maxDepth) throw tooDeepError(path);
    if (isSeq(node)) {
      const items = node.items as (Node | null)[];
      this.count(2 + items.length, items.length, path);
      const out: unknown[] = new Array(items.length);
      const total: Converted = { value: out, size: 2 + items.length, nodes: items.length, height: 1 };
      items.forEach((item, i) => this.add(total, i, this.convert(item, join(path, i), depth + 1)));
      return total;
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const total: Converted = { value: out, size: 2, nodes: node.items.length, height: 1 };
      this.count(2, node.items.length, path);
      for (const pair of node.items) {
        const key = this.keyOf(pair.key as Node | null, path);
        if (Object.hasOwn(out, key)) throw badRequest(`invalid YAML body: map keys must be unique: ${join(path, key)} is given twice`);
        total.size += key.length + 4;
        this.count(key.length + 4, 0, path);
        const value = this.convert(pair.value as Node | null, join(path, key), depth + 1);
        // Own property even for "__proto__", as JSON.parse does, so validation rejects it.
        Object.defineProperty(out, key, { value: value.value, enumerable: true, writable: true, configurable: true });
        this.add(total, -1, value);
      }
      return total;
    }
    throw badRequest(`invalid YAML body: unsupported node at ${path || 'the top'}`);
  }

  private add(total: Converted, index: number, child: Converted): void {
    if (index >= 0) (total.value as unknown[])[index] = child.value;
    total.size += child.size;
    total.nodes += child.nodes;
    total.height = Math.max(total.height, child.height + 1);
  }

  /** Keys are strings or numbers; a list or map as a key has no JSON form. */
  private keyOf(key: Node | null, path: string): string {
    if (key === null || key === undefined) return '';
    if (isScalar(key)) {
      const v = key.value;
      if (v === null) return '';
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    }
    const at = key.range ? ` at offset ${key.range[0]}` : '';
    throw badRequest(`invalid YAML body: a key under ${path || 'the top'} is not a string or number${at}`);
  }
}
