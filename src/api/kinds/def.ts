/** What each kind module declares; kinds.ts turns these into KindInfo and compiled validators. */
import Type, { type TObject, type TSchema } from 'typebox';
import type { Cause } from '../errors.js';
import type { Limits } from '../limits.js';
import { GlobalMeta, NamespacedMeta, Obj } from '../schema.js';

export interface KindDef {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** 'subdomain' allows dots and 253 characters (events); default: DNS label. */
  nameRule?: 'label' | 'subdomain';
  /** The whole object, camelCase, as stored and returned. */
  schema: TObject;
  /** The status subresource alone (the `status` property of `schema`). */
  status: TSchema;
  /** Cross-field rules JSON Schema cannot say readably; push one cause per problem. */
  check?: (obj: Record<string, any>, causes: Cause[]) => void;
  /** Entry counts checked on the raw input before the walk copies and sorts it; skipped for status writes. */
  countLimits?: (input: Record<string, any>, causes: Cause[], limits: Readonly<Limits>) => void;
  /** Size limits on client-controlled amounts (DESIGN section 17); skipped for status writes. */
  limits?: (obj: Record<string, any>, causes: Cause[], limits: Readonly<Limits>) => void;
  /**
   * Spellings of the original SkyShift, on a shallow copy of the raw input before the walk: rename
   * aliases (pushing a cause when both spellings are given) and drop fields it ignored, saying so by `warn`.
   */
  legacy?: (input: Record<string, any>, causes: Cause[], warn: (text: string) => void) => void;
  /** Adjust the renamed, defaulted input before validation (e.g. defaults that depend on siblings). */
  prepare?: (obj: Record<string, any>) => void;
}

function envelope<const K extends string, M extends TSchema, S extends TSchema, T extends TSchema>(kind: K, metadata: M, spec: S, status: T) {
  // Property order is output order: kind, apiVersion, metadata, spec, status.
  return Obj({ kind: Type.Literal(kind), apiVersion: Type.Optional(Type.String()), metadata, spec, status }, { title: kind });
}

/**
 * The {kind, apiVersion, metadata, spec, status} envelope of one kind. Overloaded so the static type of a
 * namespaced kind has `metadata.namespace` (a union of both shapes would hide it from every reader).
 */
export function Envelope<const K extends string, S extends TSchema, T extends TSchema>(
  kind: K,
  namespaced: true,
  spec: S,
  status: T,
): ReturnType<typeof envelope<K, typeof NamespacedMeta, S, T>>;
export function Envelope<const K extends string, S extends TSchema, T extends TSchema>(
  kind: K,
  namespaced: false,
  spec: S,
  status: T,
): ReturnType<typeof envelope<K, typeof GlobalMeta, S, T>>;
export function Envelope<const K extends string, S extends TSchema, T extends TSchema>(kind: K, namespaced: boolean, spec: S, status: T) {
  return envelope(kind, namespaced ? NamespacedMeta : GlobalMeta, spec, status);
}
