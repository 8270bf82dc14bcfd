/**
 * What a manager folder exports so the registry can list it: its type (and the
 * spellings the API accepts for it), the TypeBox schema of `spec.config` (the
 * API validates Clusters against it; createManager checks it again before
 * building), and the factory. Adding a manager is a folder exporting one of
 * these plus one line in registry.ts.
 */
import type { Static, TObject } from 'typebox';
import { managerAliases, type ManagerType } from '../api/index.js';
import type { ClusterManager } from './types.js';

/** Built from the Cluster object, not part of its config. */
export interface CreateManagerOptions {
  /** The Cluster object's uid: managers that share a backend with other SkyShift clusters mark their work with it. */
  uid?: string;
  /** Injected clock (ms) for managers that simulate time (sim). */
  clock?: () => number;
}

export interface ManagerRegistration<S extends TObject = TObject> {
  readonly type: ManagerType;
  /** Other spellings the API accepts for `type` (from src/api's vocabulary). */
  readonly aliases: readonly string[];
  readonly configSchema: S;
  /** Build the manager of cluster `name` from its validated config; throws ManagerError naming the cluster. */
  create(name: string, config: Static<S>, options: CreateManagerOptions): ClusterManager;
}

/** A registration whose aliases come from the API's vocabulary, so they are declared once. */
export function defineManager<S extends TObject>(registration: Omit<ManagerRegistration<S>, 'aliases'>): ManagerRegistration<S> {
  return { ...registration, aliases: managerAliases(registration.type) };
}
