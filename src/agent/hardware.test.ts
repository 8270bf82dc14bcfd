/** Hardware detection: nvidia-smi's CSV parsed, a fake nvidia-smi on PATH found and believed, flags winning. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { acceleratorName, detectHardware, parseNvidiaSmi } from './hardware.js';

test('parseNvidiaSmi reads name and memory per line, skips junk', () => {
  const out = parseNvidiaSmi('NVIDIA A100-SXM4-40GB, 40960 MiB\nTesla T4, 15360 MiB\n\nNo devices were found\nweird line\n');
  assert.deepEqual(out, [{ name: 'NVIDIA A100-SXM4-40GB', memory: 40960 }, { name: 'Tesla T4', memory: 15360 }, { name: 'weird line' }]);
  assert.deepEqual(parseNvidiaSmi(''), []);
  assert.deepEqual(parseNvidiaSmi('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'), []);
});

test('acceleratorName gives the short type jobs ask for', () => {
  assert.equal(acceleratorName('NVIDIA A100-SXM4-40GB'), 'A100');
  assert.equal(acceleratorName('NVIDIA H100 80GB HBM3'), 'H100');
  assert.equal(acceleratorName('Tesla T4'), 'T4');
  assert.equal(acceleratorName('NVIDIA GeForce RTX 4090'), 'RTX4090');
  assert.equal(acceleratorName('Tesla V100-PCIE-16GB'), 'V100');
  assert.equal(acceleratorName('mystery'), undefined);
});

test('detectHardware runs the nvidia-smi found on PATH; flags override each value', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-smi-'));
  const oldPath = process.env['PATH'];
  t.after(() => {
    process.env['PATH'] = oldPath;
    rmSync(dir, { recursive: true, force: true });
  });
  const smi = join(dir, 'nvidia-smi');
  // Answers only the exact query the agent makes, so a changed query fails this test.
  writeFileSync(
    smi,
    '#!/bin/sh\n[ "$1" = "--query-gpu=name,memory.total" ] && [ "$2" = "--format=csv,noheader" ] || exit 9\nprintf "NVIDIA A100-SXM4-40GB, 40960 MiB\\nNVIDIA A100-SXM4-40GB, 40960 MiB\\n"\n',
  );
  chmodSync(smi, 0o755);
  process.env['PATH'] = `${dir}${delimiter}${oldPath ?? ''}`;

  const hw = await detectHardware();
  assert.equal(hw.gpus, 2);
  assert.equal(hw.gpuType, 'A100');
  assert.ok(hw.cpus >= 1 && hw.memory > 0, JSON.stringify(hw));

  assert.deepEqual(await detectHardware({ cpus: 3, memory: 2048, gpus: 1 }), { cpus: 3, memory: 2048, gpus: 1, gpuType: 'A100' });
  assert.deepEqual(await detectHardware({ cpus: 3, memory: 2048, gpus: 4, gpuType: 'h100' }), { cpus: 3, memory: 2048, gpus: 4, gpuType: 'H100' });
  assert.deepEqual(await detectHardware({ cpus: 3, memory: 2048, gpus: 0 }), { cpus: 3, memory: 2048, gpus: 0 });

  // A failing nvidia-smi means no GPUs, not a crash.
  writeFileSync(smi, '#!/bin/sh\necho "NVIDIA-SMI has failed" >&2\nexit 9\n');
  assert.equal((await detectHardware()).gpus, 0);
});

test('without nvidia-smi there are no GPUs', async () => {
  const hw = await detectHardware({}, async () => undefined);
  assert.equal(hw.gpus, 0);
  assert.equal(hw.gpuType, undefined);
});
