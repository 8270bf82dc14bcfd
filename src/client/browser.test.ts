/**
 * The browser entry must not reach Node: walks the import graph of
 * browser.ts (type-only imports are erased, so they do not count) and lists
 * every Node builtin some module on it imports, with the chain that leads there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = /^\s*(?:import|export)\s+(type\s)?[^'";]*?from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
const BUILTINS = new Set(builtinModules);

function nodeImports(entry: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const here = [...chain, relative(SRC, file)];
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (m[1]) continue; // import type / export type
      const spec = (m[2] ?? m[3] ?? m[4])!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')), here);
      else if (spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0]!)) found.push(`${here.join(' -> ')} imports ${spec}`);
    }
  };
  visit(entry, []);
  return found;
}

test('the client walker finds node:http behind the Node entry', () => {
  assert.ok(nodeImports(join(SRC, 'client/index.ts')).some((line) => line.includes('node-transport.ts imports node:http')));
});

test('nothing reachable from src/client/browser.ts imports a Node builtin', () => {
  assert.deepEqual(nodeImports(join(SRC, 'client/browser.ts')), []);
});
