/** Command-line flags of the benchmarks: `--name` switches and `--name value` options. */

const argv = process.argv.slice(2);

export function flag(name: string): boolean {
  return argv.includes(`--${name}`);
}

export function stringOption(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

export function numberOption(name: string, fallback: number): number {
  const raw = stringOption(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

/** The prefix of the one stdout line a benchmark prints with --json, for bench/compare.ts to find among the rest. */
export const JSON_LINE_PREFIX = 'BENCH_JSON ';

export function printJson(result: unknown): void {
  console.log(`${JSON_LINE_PREFIX}${JSON.stringify(result)}`);
}
