import { kindForPlural } from '../src/api/index.js';
import { decodeBody, mergePatch } from '../src/server/body.js';
import { checkPatched } from '../src/server/body-limits.js';
import { forUpdate } from '../src/server/objects.js';
const many: Record<string, string> = {};
for (let i = 0; i < 99_000; i++) many[`k${i}`] = 'v';
const raw = JSON.stringify({ metadata: { annotations: many } });
const kind = kindForPlural('jobs')!;
const current = { kind: 'Job', metadata: { name: 'victim', namespace: 'default', uid: 'u', resourceVersion: '3', creationTimestamp: new Date().toISOString(), generation: 1 }, spec: { run: 'true' }, status: {} } as any;
for (let r = 0; r < 4; r++) {
  const t0 = performance.now();
  const { value } = decodeBody(raw, 'application/merge-patch+json');
  const t1 = performance.now();
  const patched = mergePatch(current, value);
  const t2 = performance.now();
  checkPatched(patched);
  const t3 = performance.now();
  try { forUpdate(kind, patched as any, current); } catch (e) { }
  const t4 = performance.now();
  console.log('decode', (t1 - t0).toFixed(1), 'merge', (t2 - t1).toFixed(1), 'checkPatched', (t3 - t2).toFixed(1), 'validate', (t4 - t3).toFixed(1));
}
