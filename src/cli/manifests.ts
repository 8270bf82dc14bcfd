/**
 * Reads manifests for apply/delete -f: multi-document YAML (`---`), JSON, a
 * directory (every .yaml/.yml/.json, sorted), or `-` for stdin. `kind: List`
 * documents are expanded. Syntax errors name `file:line:col`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { UsageError } from './runtime.js';

export interface Manifest {
  source: string;
  /** 1-based index of the document within its file. */
  index: number;
  object: Record<string, unknown>;
}

export class ManifestError extends UsageError {}

export function parseManifests(text: string, source: string): Manifest[] {
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  const out: Manifest[] = [];
  let index = 0;
  for (const doc of docs) {
    index++;
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const message = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      throw new ManifestError(pos ? `${source}:${pos.line}:${pos.col}: ${message}` : `${source}: ${message}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // empty document, e.g. a trailing `---`
    const items = isList(value) ? value.items : [value];
    for (const item of items) {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw new ManifestError(`${source}: document ${index} is not an object`);
      const obj = item as Record<string, unknown>;
      if (typeof obj.kind !== 'string') throw new ManifestError(`${source}: document ${index} has no kind`);
      const meta = obj.metadata as Record<string, unknown> | undefined;
      if (!meta || typeof meta.name !== 'string') throw new ManifestError(`${source}: document ${index} (${obj.kind}) has no metadata.name`);
      out.push({ source, index, object: obj });
    }
  }
  return out;
}

function isList(v: unknown): v is { items: unknown[] } {
  const o = v as { kind?: unknown; items?: unknown };
  return typeof o === 'object' && o !== null && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export async function readManifests(paths: string[], stdin: NodeJS.ReadableStream): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push(...parseManifests(await readStdin(stdin), '<stdin>'));
      continue;
    }
    let files: string[];
    try {
      files = statSync(path).isDirectory()
        ? readdirSync(path)
            .filter((f) => /\.(ya?ml|json)$/i.test(f))
            .sort()
            .map((f) => join(path, f))
        : [path];
    } catch {
      throw new ManifestError(`the path "${path}" does not exist`);
    }
    for (const file of files) out.push(...parseManifests(readFileSync(file, 'utf8'), file));
  }
  return out;
}
