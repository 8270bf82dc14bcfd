/**
 * docs/managers.md lists the managers from the registry: the table there must
 * be exactly what this test renders from MANAGER_REGISTRY and the API's
 * manager names. On a mismatch the message carries the table to paste.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MANAGERS, managerAliases } from '../src/api/index.js';
import { findManager } from '../src/managers/index.js';

function renderTable(): string {
  const rows = MANAGERS.map((type) => {
    const aliases =
      managerAliases(type)
        .map((a) => `\`${a}\``)
        .join(', ') || '—';
    const registration = findManager(type);
    if (!registration) return `| \`${type}\` | ${aliases} | not yet | — |`;
    const schema = registration.configSchema;
    const required = new Set(schema.required ?? []);
    const fields = Object.keys(schema.properties)
      .map((k) => (required.has(k) ? `\`${k}\` (required)` : `\`${k}\``))
      .join(', ');
    return `| \`${type}\` | ${aliases} | yes | ${fields} |`;
  });
  return ['| manager | aliases | in this version | `spec.config` fields |', '|---|---|---|---|', ...rows].join('\n');
}

test('docs/managers.md lists the registry', () => {
  const doc = readFileSync(new URL('../docs/managers.md', import.meta.url), 'utf8');
  const table = renderTable();
  assert.ok(doc.includes(table), `docs/managers.md must contain this table (rendered from the registry):\n\n${table}\n`);
});
