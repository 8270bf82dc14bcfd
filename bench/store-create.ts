/**
 * Quick create-throughput probe for the store backends (not a timed test):
 *   node --import tsx bench/store-create.ts [sqlite|etcd://host:port|memory:] [count] [concurrency]
 * Values are ~300-byte JSON objects like a small Job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';

const target = process.argv[2] ?? 'sqlite';
const count = Number(process.argv[3] ?? 20_000);
const concurrency = Number(process.argv[4] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'skyshift-bench-'));
const store = await openStore(target === 'sqlite' ? `sqlite:${join(dir, 'bench.db')}` : target);
const root = `/bench-${Date.now()}/registry/jobs/default/`;
const value = (i: number) => ({
  kind: 'Job',
  metadata: { name: `job-${i}`, namespace: 'default', uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, labels: { app: 'bench' } },
  spec: { image: 'ubuntu:22.04', run: 'echo hello', replicas: 1, resources: { cpus: 1, memory: 512 } },
  status: { phase: 'INIT' },
});

let next = 0;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      await store.create(`${root}job-${i}`, value(i));
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  `${store.backend}: ${count} creates at concurrency ${concurrency} in ${seconds.toFixed(2)} s = ${Math.round(count / seconds)} creates/s (${((seconds / count) * 1e6).toFixed(1)} µs each)`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
