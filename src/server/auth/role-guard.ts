/**
 * Writing a role is granting it: nobody may create, replace, patch or delete
 * a role that allows more than they hold. A Role's `spec.users` is the only
 * binding of users to roles (a User object carries none), so this also guards
 * every change of who holds a role.
 *
 * Decides on the target the Router resolved (request.skyTarget), the same one
 * the gate authorised and the handler then writes, so no spelling of a path
 * can skip it. The role the write would store is computed with the handlers'
 * own functions (defaults, path binding, merge and JSON patch), and for a
 * PATCH the revision it was computed from becomes the write's precondition:
 * a concurrent change of the role makes the patch a 409, never a write the
 * guard did not see.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, type ApiObject, type KindInfo, type RoleSpec } from '../../api/index.js';
import { decodeBody, jsonPatch, mergePatch, requireObject } from '../body.js';
import { bindToPath, forCreate, forUpdate } from '../objects.js';
import type { Target } from '../router.js';
import type { AuthService, Principal } from './service.js';

/** Status writes are not here: the status subresource never changes a spec (objects.ts forStatus). */
const ROLE_WRITES = new Set(['collection POST', 'object PUT', 'object PATCH', 'object DELETE']);

export function installRoleGuard(app: FastifyInstance, auth: AuthService): void {
  // Callback style, so the requests it does not concern (nearly all) cost no promise.
  app.addHook('preHandler', (request, _reply, done) => {
    const target = request.skyTarget;
    if (target === undefined || target instanceof ApiError || !('kind' in target) || target.kind.plural !== auth.directory.roles.plural) return done();
    if (!ROLE_WRITES.has(`${target.type} ${request.method}`)) return done();
    // The gate admits no anonymous request to a resource route; without a principal, refuse rather than guess.
    const principal = request.skyPrincipal;
    if (!principal) return done(new ApiError('Unauthorized', 'authentication required: log in with skyctl login'));
    checkRoleWrite(auth, request, principal, target).then(() => done(), done);
  });
}

async function checkRoleWrite(auth: AuthService, request: FastifyRequest, principal: Principal, target: Target): Promise<void> {
  const kind = target.kind;
  const now = () => new Date();
  const type = request.headers['content-type'];
  if (target.type === 'collection') {
    const after = specOf(forCreate(kind, bind(kind, decodeBody(request.body, type).value, undefined), now));
    return requireCovered(auth, principal, after.name, after.spec, 'create');
  }
  if (target.type !== 'object') return;
  const name = target.name;
  const current = await auth.directory.roleRecord(name);
  if (request.method === 'PUT') {
    const { format, value } = decodeBody(request.body, type);
    // The handler answers other formats (415); nothing is written then.
    if (format !== 'json' && format !== 'yaml') return;
    const after = specOf(forCreate(kind, bind(kind, value, name), now));
    await requireCovered(auth, principal, name, after.spec, 'write');
    // Replacing a role takes its grants away from its holders: only someone holding all of it may.
    if (current) await requireCovered(auth, principal, name, current.value.spec as RoleSpec, 'replace', true);
    return;
  }
  if (!current) throw new ApiError('NotFound', `role '${name}' not found`);
  const before = current.value.spec as RoleSpec;
  await requireCovered(auth, principal, name, before, request.method === 'DELETE' ? 'delete' : 'change', true);
  if (request.method === 'DELETE') return;
  const { format, value } = decodeBody(request.body, type);
  if (format !== 'merge-patch' && format !== 'json-patch') return; // the handler's 415
  // Exactly what patchObject computes from this revision; the handler is held to the same revision.
  const base = { ...current.value, metadata: { ...current.value.metadata, resourceVersion: String(current.revision) } };
  const patched = format === 'merge-patch' ? mergePatch(base, value) : jsonPatch(base, value);
  const after = specOf(forUpdate(kind, bind(kind, patched, name), current.value));
  // A client precondition other than the checked revision would let the handler patch a role this check never saw.
  const asked = (request.query as Record<string, unknown> | undefined)?.resourceVersion;
  if (asked !== undefined && asked !== '' && String(asked) !== String(current.revision)) {
    throw new ApiError('Conflict', `role '${name}' has been modified since it was read (resourceVersion mismatch); get it again and retry`);
  }
  request.skyPinnedRevision = current.revision;
  await requireCovered(auth, principal, name, after.spec, 'write');
}

function bind(kind: KindInfo, value: unknown, name: string | undefined): Record<string, unknown> {
  return bindToPath(kind, requireObject(value), undefined, name);
}

function specOf(obj: unknown): { name: string; spec: RoleSpec } {
  const o = obj as ApiObject;
  return { name: o.metadata.name, spec: o.spec as RoleSpec };
}

/**
 * `held`: the user may also act on a role it holds (its grants are then the
 * user's own). A role being written never counts as held: writing yourself
 * into `users` is exactly the escalation this guard exists for.
 */
async function requireCovered(auth: AuthService, principal: Principal, name: string, spec: RoleSpec, verb: string, held = false): Promise<void> {
  const role = { name, spec: held ? spec : { ...spec, users: [] } };
  if (await auth.mayGrant(principal, role)) return;
  throw new ApiError('Forbidden', `user '${principal.user}' may not ${verb} role '${name}': it allows more than the user holds`);
}
