/** Every kind's schema, types and definition. */
import { clusterKind } from './cluster.js';
import type { KindDef } from './def.js';
import { endpointsKind } from './endpoints.js';
import { eventKind } from './event.js';
import { filterPolicyKind } from './filterpolicy.js';
import { jobKind } from './job.js';
import { leaseKind } from './lease.js';
import { linkKind } from './link.js';
import { namespaceKind } from './namespace.js';
import { roleKind } from './role.js';
import { serviceKind } from './service.js';
import { userKind } from './user.js';

export * from './cluster.js';
export * from './endpoints.js';
export * from './event.js';
export * from './filterpolicy.js';
export * from './job.js';
export * from './lease.js';
export * from './link.js';
export * from './namespace.js';
export * from './role.js';
export * from './service.js';
export * from './user.js';
export type { KindDef } from './def.js';

export const KIND_DEFS: readonly KindDef[] = [
  clusterKind,
  namespaceKind,
  jobKind,
  filterPolicyKind,
  serviceKind,
  endpointsKind,
  linkKind,
  eventKind,
  leaseKind,
  roleKind,
  userKind,
];
