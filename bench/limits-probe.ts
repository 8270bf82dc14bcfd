/**
 * node --import tsx bench/limits-probe.ts — worst-case bodies for the size
 * limits of DESIGN section 17 (YAML key floods and alias bombs, chained JSON
 * patch copies, deep and wide JSON) through the API server in process
 * (inject), so every millisecond printed is event-loop time. Two rounds: the
 * first includes V8 compiling the code paths, the second is steady state.
 * The machine is shared: compare against a run of the same script, not a budget.
 */
import { openStore } from '../src/store/index.js';
import { createApiServer } from '../src/server/index.js';

const store = await openStore('memory:');
const server = createApiServer({ store });
await server.ready();
const inject = (method: string, url: string, payload: string, ct = 'application/json') =>
  server.app.inject({ method: method as 'POST', url, payload, headers: { 'content-type': ct } });
const job = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) =>
  JSON.stringify({ kind: 'Job', metadata: { name, ...meta }, spec: { run: 'true', ...spec } });
await inject('POST', '/default/jobs', job('victim'));

const cases: [string, string, string, string, string?][] = [];
const add = (label: string, method: string, url: string, body: string, ct?: string) => cases.push([label, method, url, body, ct]);

let keys = '';
for (let i = 0; i < 80_000; i++) keys += `  k${String(i).padStart(5, '0')}: v\n`;
add(
  'YAML 80,000 keys',
  'POST',
  '/default/jobs',
  `kind: Job\nmetadata:\n  name: y\n  annotations:\n${keys.replace(/^ {2}/gm, '    ')}spec: {run: "true"}\n`,
  'application/yaml',
);
let small = '';
for (let i = 0; i < 12_000; i++) small += `    k${i}: v\n`;
add(
  'YAML 12,000 annotation keys (under token limit)',
  'POST',
  '/default/jobs',
  `kind: Job\nmetadata:\n  name: y12k\n  annotations:\n${small}spec: {run: "true"}\n`,
  'application/yaml',
);
const chunk = 'x'.repeat(10_000);
let envBomb = 'kind: Job\nmetadata: {name: env-bomb}\nspec:\n  run: "true"\n  envs:\n';
for (let a = 0; a < 140; a++) {
  envBomb += `    A${a}: &e${a} ${chunk}\n`;
  for (let k = 0; k < 99; k++) envBomb += `    B${a}_${k}: *e${a}\n`;
}
add('YAML alias bomb 1.4 MB -> 140 MB', 'POST', '/default/jobs', envBomb, 'application/yaml');
const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
for (let i = 1; i < 9; i++)
  lines.push(
    `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(',')}]`,
  );
add('YAML billion laughs', 'POST', '/default/jobs', `kind: Job\nmetadata: {name: lol}\nspec:\n${lines.map((l) => `  ${l}`).join('\n')}\n`, 'application/yaml');
add('YAML flow nested 50,000 deep', 'POST', '/default/jobs', '['.repeat(50_000) + ']'.repeat(50_000), 'application/yaml');
let manyAliases = 'kind: Job\nmetadata: {name: many-aliases}\nspec:\n  run: &r "true"\n  x:\n';
for (let i = 0; i < 30_000; i++) manyAliases += `  - *r\n`;
add('YAML 30,000 aliases of one scalar', 'POST', '/default/jobs', manyAliases, 'application/yaml');
let anchors = 'kind: Job\nmetadata: {name: many-anchors}\nspec:\n  x:\n';
for (let i = 0; i < 20_000; i++) anchors += `  - &a${i} v\n  - *a${i}\n`;
add('YAML 20,000 anchors + aliases', 'POST', '/default/jobs', anchors, 'application/yaml');

const ops: unknown[] = [{ op: 'add', path: '/spec/x', value: { v: 'y'.repeat(64) } }];
for (let i = 0; i < 26; i++) ops.push({ op: 'copy', from: '/spec/x', path: `/spec/x/c${i}` });
add('JSON patch 26 chained copies', 'PATCH', '/default/jobs/victim', JSON.stringify(ops), 'application/json-patch+json');
const big = { v: 'y'.repeat(1_000_000) };
const bigOps: unknown[] = [{ op: 'add', path: '/spec/big', value: big }];
for (let i = 0; i < 999; i++) bigOps.push({ op: 'test', path: '/spec/big', value: { v: 'z' } });
add('JSON patch 1 MB value + 999 tests', 'PATCH', '/default/jobs/victim', JSON.stringify(bigOps), 'application/json-patch+json');
const moveOps: unknown[] = [{ op: 'add', path: '/spec/m', value: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])) }];
for (let i = 0; i < 998; i++) moveOps.push({ op: 'move', from: i % 2 ? '/spec/n' : '/spec/m', path: i % 2 ? '/spec/m' : '/spec/n' });
add('JSON patch 20k-key value moved 998 times', 'PATCH', '/default/jobs/victim', JSON.stringify(moveOps), 'application/json-patch+json');
add(
  'JSON patch 50,000 ops',
  'PATCH',
  '/default/jobs/victim',
  JSON.stringify(Array.from({ length: 50_000 }, () => ({ op: 'test', path: '/kind', value: 'Job' }))),
  'application/json-patch+json',
);
add('JSON nested 100,000 deep', 'POST', '/default/jobs', '['.repeat(100_000) + ']'.repeat(100_000));
add('JSON objects nested 50,000 deep', 'POST', '/default/jobs', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000));
const many: Record<string, string> = {};
for (let i = 0; i < 99_000; i++) many[`k${i}`] = '';
add('JSON 99,000 annotation keys', 'POST', '/default/jobs', job('many', {}, { annotations: many }));
const manyEnv: Record<string, string> = {};
for (let i = 0; i < 99_000; i++) manyEnv[`E${i}`] = 'x';
add('JSON 99,000 envs', 'POST', '/default/jobs', job('many-env', { envs: manyEnv }));
add('JSON [0,0,...] 750,000 items', 'POST', '/default/jobs', `[${Array(750_000).fill(0).join(',')}]`);
add('JSON merge patch 99,000 keys', 'PATCH', '/default/jobs/victim', JSON.stringify({ metadata: { annotations: many } }), 'application/merge-patch+json');
const under: Record<string, string> = {};
for (let i = 0; i < 49_000; i++) under[`k${i}`] = '';
add('JSON 49,000 annotation keys (under node limit)', 'POST', '/default/jobs', job('under', {}, { annotations: under }));
add(
  'JSON merge patch 49,000 keys (under node limit)',
  'PATCH',
  '/default/jobs/victim',
  JSON.stringify({ metadata: { annotations: under } }),
  'application/merge-patch+json',
);
const env1000: Record<string, string> = {};
for (let i = 0; i < 1000; i++) env1000[`E${i}`] = 'x'.repeat(500);
add('JSON job 1,000 envs x 500 B (accepted)', 'POST', '/default/jobs', job('env1000', { envs: env1000 }));
add('replicas 1e308', 'POST', '/default/jobs', '{"kind":"Job","metadata":{"name":"r"},"spec":{"run":"x","replicas":1e308}}');
add('replicas 10000 (accepted)', 'POST', '/default/jobs', job('r10k', { replicas: 10_000 }));

// Two rounds: the first includes V8 compiling the code paths, the second is steady state.
const times: number[][] = [[], []];
const out: string[] = [];
for (const round of [0, 1]) {
  for (const [i, [label, method, url, body, ct]] of cases.entries()) {
    const t = performance.now();
    const res = await inject(method, url, body, ct);
    times[round]![i] = performance.now() - t;
    if (round === 0)
      out[i] = `${String(res.statusCode)}  ${label} (${Math.round(Buffer.byteLength(body) / 1024)} KiB): ${(res.json().message ?? '').slice(0, 100)}`;
  }
}
console.log('   cold     warm');
cases.forEach((_, i) => console.log(`${times[0]![i]!.toFixed(1).padStart(7)}  ${times[1]![i]!.toFixed(1).padStart(7)}  ${out[i]}`));
console.log(`worst cold ${Math.max(...times[0]!).toFixed(1)} ms, worst warm ${Math.max(...times[1]!).toFixed(1)} ms`);
await server.close();
await store.close();
