/**
 * User: an account that can log in (password) or a service account (token).
 * Deliberately holds no credential: password hashes and token digests live
 * under a separate store prefix that no generic route serves, so no list,
 * get or watch of users can ever carry one.
 */
import Type from 'typebox';
import { Enum, Obj } from '../schema.js';
import { Envelope, type KindDef } from './def.js';

export const UserSpec = Obj(
  {
    email: Type.Optional(Type.String({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', 'x-error': 'must be an e-mail address' })),
    type: Enum(['user', 'serviceaccount'], { default: 'user' }),
  },
  { default: {} },
);
export const UserStatus = Obj({}, { default: {} });
export const UserSchema = Envelope('User', false, UserSpec, UserStatus);
export type UserSpec = Type.Static<typeof UserSpec>;
export type User = Type.Static<typeof UserSchema>;

export const userKind: KindDef = {
  kind: 'User',
  plural: 'users',
  singular: 'user',
  shortNames: [],
  namespaced: false,
  schema: UserSchema,
  status: UserStatus,
};
