/**
 * Which (action, resource, namespace) a resource request needs — the one
 * table of DESIGN section 9:
 *   POST collection          create
 *   GET collection           list, or watch with ?watch=true
 *   GET object               get, or watch with ?watch=true
 *   GET logs                 get on jobs
 *   GET exec / portforward   update on jobs: running a command in a task or
 *                            reaching its ports is as strong as changing the
 *                            job, so a role that may only read jobs cannot
 *   PUT / PATCH object       update / patch
 *   PUT / PATCH status       update / patch on "<plural>/status" (so whoever
 *                            may edit a spec cannot forge the status controllers report)
 *   GET status               get
 *   DELETE object            delete
 * Global kinds and all-namespace lists have no namespace: only a grant on '*'
 * covers them.
 */
import type { Target } from '../router.js';
import type { Request } from './rbac.js';

export function requiredGrant(method: string, target: Target, watch: boolean): Request | undefined {
  const namespace = target.kind.namespaced ? target.namespace : undefined;
  const plural = target.kind.plural;
  const read = method === 'GET' || method === 'HEAD';
  const grant = (action: string, resource = plural): Request => ({ action, resource, namespace });
  switch (target.type) {
    case 'collection':
      if (read) return grant(watch ? 'watch' : 'list');
      if (method === 'POST') return grant('create');
      return undefined;
    case 'object':
      if (read) return grant(watch ? 'watch' : 'get');
      if (method === 'PUT') return grant('update');
      if (method === 'PATCH') return grant('patch');
      if (method === 'DELETE') return grant('delete');
      return undefined;
    case 'status':
      if (read) return grant('get');
      if (method === 'PUT') return grant('update', `${plural}/status`);
      if (method === 'PATCH') return grant('patch', `${plural}/status`);
      return undefined;
    case 'logs':
      return read ? grant('get') : undefined;
    case 'exec':
    case 'portforward':
      return method === 'GET' ? grant('update') : undefined;
  }
}
