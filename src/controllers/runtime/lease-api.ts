/** LeaseApi for leader election over the REST client: Lease objects, optimistic concurrency by resourceVersion. */
import { ApiError, type ApiObject, type SkyShiftClient } from '../client/index.js';
import type { Lease, LeaseApi } from './runtime/index.js';

export function clientLeaseApi(client: SkyShiftClient, signal?: AbortSignal): LeaseApi {
  return {
    async get(name) {
      try {
        return (await client.get('leases', name, { signal })) as unknown as Lease;
      } catch (err) {
        if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
        throw err;
      }
    },
    async create(lease) {
      return (await client.create('leases', lease, { signal })) as unknown as Lease;
    },
    async update(lease) {
      // update() sends metadata.resourceVersion: a stale copy fails with Conflict, which is the point.
      return (await client.update('leases', { ...lease, status: lease.status ?? {} } as unknown as ApiObject, { signal })) as unknown as Lease;
    },
  };
}
