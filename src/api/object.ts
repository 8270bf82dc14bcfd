/** The envelope every SkyShift object shares: {kind, metadata, spec, status}. */
import type { Status } from './errors.js';

export type ObjectMeta = {
  name: string;
  /** Present on namespaced kinds only. */
  namespace?: string;
  uid?: string;
  /** Opaque string; equals the store revision of the last write. Compare only for equality. */
  resourceVersion?: string;
  /** Bumped by the server whenever `spec` changes. */
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

export type ApiObject<Spec = Record<string, unknown>, Status = Record<string, unknown>> = {
  kind: string;
  apiVersion?: string;
  metadata: ObjectMeta;
  spec: Spec;
  status: Status;
};

export interface ObjectList<T extends ApiObject = ApiObject> {
  kind: string; // e.g. "JobList"
  apiVersion?: string;
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One line of a watch stream (NDJSON). For ERROR the object is a Status. */
export type WatchEvent<T = ApiObject> = { type: Exclude<WatchEventType, 'ERROR'>; object: T } | { type: 'ERROR'; object: Partial<Status> };

/** `namespace/name` for namespaced objects, `name` for global ones: the informer and work-queue key. */
export function objectKey(obj: { metadata: ObjectMeta }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}
