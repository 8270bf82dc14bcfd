/** LeaseApi for leader election over the REST client: Lease objects, optimistic concurrency by resourceVersion. */
import type { Lease } from '../../api/index.js';
import { ApiError, type SkyShiftClient } from '../../client/index.js';
import type { LeaseApi } from './leader.js';

export function clientLeaseApi(client: SkyShiftClient, signal?: AbortSignal): LeaseApi {
  return {
    async get(name) {
      try {
        return await client.get<Lease>('leases', name, { signal });
      } catch (err) {
        if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
        throw err;
      }
    },
    create: (lease) => client.create<Lease>('leases', lease, { signal }),
    // update() sends metadata.resourceVersion: a stale copy fails with Conflict, which is the point.
    update: (lease) => client.update<Lease>('leases', { ...lease, status: lease.status ?? {} }, { signal }),
  };
}
