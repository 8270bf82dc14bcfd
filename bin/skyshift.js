#!/usr/bin/env node
// Runs the compiled build when present (npm ci builds it), else the TypeScript source through tsx.
import { existsSync } from 'node:fs';
const built = new URL('../dist/bin/skyshift.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  await import('tsx/esm');
  await import(new URL('../src/bin/skyshift.ts', import.meta.url).href);
}
