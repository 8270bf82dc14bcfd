/**
 * What the agent's machine offers: cpus and memory from the OS, NVIDIA GPUs
 * and their type from `nvidia-smi` when it is on PATH. Flags override each
 * value. The GPU type is the short accelerator name jobs ask for (A100, T4,
 * RTX4090), parsed from the product name nvidia-smi prints.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';

export interface Hardware {
  cpus: number;
  /** MiB. */
  memory: number;
  gpus: number;
  /** Short accelerator name (A100); undefined without GPUs or when the name says nothing recognisable. */
  gpuType?: string;
}

export interface HardwareOverrides {
  cpus?: number;
  memory?: number;
  gpus?: number;
  gpuType?: string;
}

export interface GpuInfo {
  /** As nvidia-smi prints it, e.g. `NVIDIA A100-SXM4-40GB`. */
  name: string;
  /** MiB, when printed. */
  memory?: number;
}

/** Bytes of nvidia-smi output read at most: a machine has a handful of GPUs, not megabytes of them. */
const MAX_OUTPUT = 64 * 1024;
const NVIDIA_SMI_TIMEOUT_MS = 10_000;

/** `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader` lines -> one entry per GPU; junk lines are skipped. */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const out: GpuInfo[] = [];
  for (const raw of text.slice(0, MAX_OUTPUT).split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    // The name may itself hold commas on no card we know of; the memory is the last field.
    const cut = line.lastIndexOf(',');
    const name = (cut >= 0 ? line.slice(0, cut) : line).trim();
    if (!name || /^(No devices|NVIDIA-SMI has failed)/i.test(name)) continue;
    const mem = cut >= 0 ? /^(\d+)\s*MiB$/i.exec(line.slice(cut + 1).trim()) : null;
    out.push(mem ? { name, memory: Number(mem[1]) } : { name });
  }
  return out;
}

/** The accelerator name jobs request (`A100`, `H100`, `T4`, `RTX4090`) from a product name, or undefined. */
export function acceleratorName(product: string): string | undefined {
  const tokens = product
    .toUpperCase()
    .split(/[-_\s]+/)
    .filter((t) => t && !['NVIDIA', 'TESLA', 'GEFORCE', 'QUADRO'].includes(t));
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (/^(RTX|GTX|TITAN)$/.test(t) && /^\d+/.test(tokens[i + 1] ?? '')) return t + (tokens[i + 1] as string);
    if (/^[A-Z]{1,3}\d{1,4}[A-Z]?$/.test(t) && !/^(SXM|PCIE|HBM|GB)\d/.test(t)) return t;
  }
  return undefined;
}

/** Runs nvidia-smi; resolves to its stdout, or undefined when it is absent or fails (no GPUs then). */
export function runNvidiaSmi(command = 'nvidia-smi'): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      command,
      ['--query-gpu=name,memory.total', '--format=csv,noheader'],
      { timeout: NVIDIA_SMI_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8' },
      (err, stdout) => resolve(err ? undefined : stdout),
    );
  });
}

/** This machine's hardware with the overrides applied; nvidia-smi is asked only when GPUs are not both given. */
export async function detectHardware(overrides: HardwareOverrides = {}, smi: () => Promise<string | undefined> = runNvidiaSmi): Promise<Hardware> {
  const cpus = overrides.cpus ?? availableParallelism();
  const memory = overrides.memory ?? Math.floor(totalmem() / (1024 * 1024));
  let gpus = overrides.gpus;
  let gpuType = overrides.gpuType?.toUpperCase();
  if (gpus === undefined || (gpuType === undefined && gpus > 0)) {
    const found = parseNvidiaSmi((await smi()) ?? '');
    gpus ??= found.length;
    // Mixed cards: the type of the first one (a typed request then fits that many; `gpus` counts them all).
    if (gpuType === undefined && found[0]) gpuType = acceleratorName(found[0].name);
  }
  return { cpus, memory, gpus, ...(gpus > 0 && gpuType ? { gpuType } : {}) };
}
