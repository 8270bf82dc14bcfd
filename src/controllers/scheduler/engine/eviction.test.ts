import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { evictionsFor } from './eviction.js';
import type { SchedFilterPolicy, SchedJob } from './types.js';

const job: SchedJob = { namespace: 'default', name: 'j', uid: 'u', replicas: 5, resources: { cpus: 1 }, labels: { team: 'ml' } };

describe('evictionsFor', () => {
  it('evicts replicas on clusters a matching policy now excludes, keeps the rest', () => {
    const policies: SchedFilterPolicy[] = [{ namespace: 'default', name: 'no-cloud', labelsSelector: { team: 'ml' }, clusterFilter: { exclude: ['cloud'] } }];
    const out = evictionsFor(job, { onprem: [0, 1], cloud: [4, 2, 3] }, policies);
    assert.deepEqual(out, [{ cluster: 'cloud', ranks: [2, 3, 4], reason: 'excluded by FilterPolicy no-cloud' }]);
  });

  it('include lists evict everything outside them', () => {
    const policies: SchedFilterPolicy[] = [{ namespace: 'default', name: 'only-a', clusterFilter: { include: ['a'] } }];
    assert.deepEqual(evictionsFor(job, { a: [0], b: [1], c: [] }, policies), [{ cluster: 'b', ranks: [1], reason: 'not included by FilterPolicy only-a' }]);
  });

  it('ignores policies of other namespaces or with a selector the job does not match', () => {
    const policies: SchedFilterPolicy[] = [
      { namespace: 'other', name: 'p1', clusterFilter: { exclude: ['a'] } },
      { namespace: 'default', name: 'p2', labelsSelector: { team: 'web' }, clusterFilter: { exclude: ['a'] } },
    ];
    assert.deepEqual(evictionsFor(job, { a: [0, 1] }, policies), []);
  });
});
