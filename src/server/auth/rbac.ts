/**
 * Role evaluation, pure: no I/O, so every rule is unit-testable.
 *
 * A request is (action, resource, namespace). `namespace` undefined means
 * "not confined to one namespace": a global kind (clusters, users, roles ...)
 * or a list/watch across all namespaces. Only a role granting namespace '*'
 * covers those, so a namespace-scoped role can never reach cluster-wide state.
 * '*' in a role matches anything; '*' in a request (used when checking whether
 * someone may hand out a role) is matched only by '*'.
 */
import type { RoleSpec } from '../../api/index.js';

export interface Request {
  action: string;
  resource: string;
  namespace: string | undefined;
}

export interface RoleView {
  name: string;
  spec: RoleSpec;
}

function matches(granted: readonly string[], wanted: string): boolean {
  return granted.includes('*') || granted.includes(wanted);
}

function inNamespace(role: RoleView, namespace: string | undefined): boolean {
  const namespaces = role.spec.namespaces;
  if (namespaces.includes('*')) return true;
  return namespace !== undefined && namespace !== '*' && namespaces.includes(namespace);
}

/** True if `role` alone allows `request` (membership not considered). */
function roleAllows(role: RoleView, request: Request): boolean {
  if (!inNamespace(role, request.namespace)) return false;
  return role.spec.rules.some((r) => matches(r.actions, request.action) && matches(r.resources, request.resource));
}

export function rolesOf(roles: readonly RoleView[], user: string): RoleView[] {
  return roles.filter((r) => r.spec.users.includes(user));
}

export function allows(roles: readonly RoleView[], user: string, request: Request): boolean {
  return rolesOf(roles, user).some((r) => roleAllows(r, request));
}

/**
 * May `user` hand out `target`? Only if it holds it, or if its own roles allow
 * every (action, resource, namespace) the target grants: nobody can grant more
 * than they have.
 */
export function covers(roles: readonly RoleView[], user: string, target: RoleView): boolean {
  if (target.spec.users.includes(user)) return true;
  const namespaces = target.spec.namespaces.map((n) => (n === '*' ? undefined : n));
  for (const namespace of namespaces) {
    for (const rule of target.spec.rules) {
      for (const resource of rule.resources) {
        for (const action of rule.actions) {
          if (!allows(roles, user, { action, resource, namespace })) return false;
        }
      }
    }
  }
  return true;
}

/**
 * Every role's grants expanded per user, built once per role revision so the
 * request gate answers in a few map lookups instead of scanning every role.
 * Same semantics as `allows`: namespace -> resource -> actions, where '*' at a
 * level matches anything and a request's '*' or absent namespace is matched
 * only by a granted '*'. Nested maps rather than joined strings, so no value
 * can forge another's key.
 */
export class RuleIndex {
  private readonly byUser = new Map<string, Map<string, Map<string, Set<string>>>>();

  constructor(readonly roles: readonly RoleView[]) {
    for (const role of roles) {
      for (const user of role.spec.users) {
        let namespaces = this.byUser.get(user);
        if (!namespaces) this.byUser.set(user, (namespaces = new Map()));
        for (const namespace of role.spec.namespaces) {
          let resources = namespaces.get(namespace);
          if (!resources) namespaces.set(namespace, (resources = new Map()));
          for (const rule of role.spec.rules) {
            for (const resource of rule.resources) {
              let actions = resources.get(resource);
              if (!actions) resources.set(resource, (actions = new Set()));
              for (const action of rule.actions) actions.add(action);
            }
          }
        }
      }
    }
  }

  allows(user: string, request: Request): boolean {
    const namespaces = this.byUser.get(user);
    if (!namespaces) return false;
    const { action, resource, namespace } = request;
    const scoped = namespace !== undefined && namespace !== '*' ? namespaces.get(namespace) : undefined;
    return grantsIn(scoped, resource, action) || grantsIn(namespaces.get('*'), resource, action);
  }

  rolesOf(user: string): RoleView[] {
    return rolesOf(this.roles, user);
  }
}

function grantsIn(resources: Map<string, Set<string>> | undefined, resource: string, action: string): boolean {
  if (!resources) return false;
  return hasAction(resources.get(resource), action) || (resource !== '*' && hasAction(resources.get('*'), action));
}

function hasAction(actions: Set<string> | undefined, action: string): boolean {
  return actions !== undefined && (actions.has(action) || actions.has('*'));
}
