/**
 * Role: who (users) may do what (rules: resources x actions) where (namespaces).
 * A grant on namespace '*' covers every namespace, lists across all namespaces
 * and the global kinds (clusters, namespaces, users, roles ...).
 */
import Type from 'typebox';
import { Enum, Obj } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const ROLE_ACTIONS = ['create', 'get', 'list', 'watch', 'update', 'patch', 'delete'] as const;
export type RoleAction = (typeof ROLE_ACTIONS)[number];

/** A plural ('jobs'), a status subresource ('jobs/status') or '*'. */
const RESOURCE_PATTERN = '^(\\*|[a-z][a-z0-9]*(/status)?)$';

export const RoleRule = Obj({
  resources: Type.Array(Type.String({ pattern: RESOURCE_PATTERN, 'x-error': "must be a resource plural such as 'jobs', 'jobs/status', or '*'" }), {
    minItems: 1,
  }),
  actions: Type.Array(Enum(['*', ...ROLE_ACTIONS]), { minItems: 1 }),
});
export type RoleRule = Type.Static<typeof RoleRule>;

export const RoleSpec = Obj({
  rules: Type.Array(RoleRule, { default: [] }),
  namespaces: Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { default: [], description: "namespace names or '*'" }),
  users: Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { default: [], description: 'user names holding the role' }),
});
export const RoleStatus = Obj({}, { default: {} });
export const RoleSchema = Envelope('Role', false, RoleSpec, RoleStatus);
export type RoleSpec = Type.Static<typeof RoleSpec>;
export type Role = Type.Static<typeof RoleSchema>;

export const roleKind: KindDef = {
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  shortNames: [],
  namespaced: false,
  schema: RoleSchema,
  status: RoleStatus,
};
