/** Flag value helpers shared by create commands. */
import { Option } from 'commander';
import { UsageError } from '../runtime.js';

/**
 * `-l K V` pairs as the reference CLI takes them (variadic, so `-l a b -l c d`
 * arrives as [a, b, c, d]); `K=V` is accepted too.
 */
export function pairs(tokens: unknown, flag: string): Record<string, string> {
  const list = Array.isArray(tokens) ? tokens.map(String) : [];
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i++) {
    const t = list[i] as string;
    const eq = t.indexOf('=');
    if (eq > 0) {
      out[t.slice(0, eq)] = t.slice(eq + 1);
      continue;
    }
    const value = list[i + 1];
    if (value === undefined) throw new UsageError(`${flag} needs KEY VALUE (or KEY=VALUE); got "${t}" without a value`);
    out[t] = value;
    i++;
  }
  return out;
}

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function intArg(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new UsageError(`${name} must be an integer, got "${value}"`);
    return Number(value);
  };
}

export function numArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} must be a number, got "${value}"`);
    return n;
  };
}

/** Hidden alias for the reference's spelling of a flag (`--restart_policy`). */
export function alias(flags: string, description = ''): Option {
  return new Option(flags, description).hideHelp();
}

/** First defined value among option spellings. */
export function pick<T = unknown>(opts: Record<string, unknown>, ...names: string[]): T | undefined {
  for (const n of names) if (opts[n] !== undefined) return opts[n] as T;
  return undefined;
}

/** Memory flag: a number is MiB, a string with units goes to the server as written (it parses units). */
export function memoryValue(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  return /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}
