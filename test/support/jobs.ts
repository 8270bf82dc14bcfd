/** Job objects for manager tests: the API's own `Job`, every defaulted field filled in as the API server would. */
import type { Job, JobSpec } from '../../src/api/index.js';

export function testJob(name: string, spec: Partial<JobSpec>, metadata: { uid?: string; namespace?: string } = {}): Job {
  return {
    kind: 'Job',
    metadata: {
      name,
      namespace: metadata.namespace ?? 'default',
      uid: metadata.uid ?? `uid-${name}-${Math.random().toString(36).slice(2, 10)}`,
      labels: {},
      annotations: {},
    },
    spec: {
      run: '',
      envs: {},
      ports: [],
      replicas: 1,
      resources: {},
      restartPolicy: 'Never',
      placement: { filters: [], preferences: [] },
      priority: 0,
      volumes: {},
      ...spec,
    },
    status: { phase: 'INIT', conditions: [], replicaStatus: {}, jobIds: {}, taskStatus: {} },
  };
}
