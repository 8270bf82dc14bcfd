import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, type Cause } from './errors.js';
import { KINDS, resolveKind } from './kinds.js';
import { normalizeObject, normalizeStatus } from './normalize.js';

function norm(kind: string, input: unknown) {
  const info = resolveKind(kind);
  assert.ok(info, kind);
  return normalizeObject(info, input);
}

function rejects(kind: string, input: unknown, causes: Cause[], message?: string): void {
  assert.throws(
    () => norm(kind, input),
    (err: unknown) => {
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.reason, 'Invalid');
      assert.deepEqual(err.details?.causes, causes);
      if (message !== undefined) assert.equal(err.message, message);
      return true;
    },
  );
}

/** camelCase and snake_case spellings must give the same object, byte for byte. */
function sameForBoth(kind: string, camel: unknown, snake: unknown) {
  const a = norm(kind, camel);
  const b = norm(kind, snake);
  assert.deepEqual(a, b);
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  return a;
}

// ---------------------------------------------------------------- Job

test('job: full document, camelCase and snake_case', () => {
  const job = sameForBoth(
    'job',
    {
      kind: 'Job',
      apiVersion: 'v1',
      metadata: { name: 'hello', namespace: 'team', labels: { app: 'hello', 'example.com/tier': 'gpu' } },
      spec: {
        image: 'ubuntu:22.04',
        imagePullPolicy: 'IfNotPresent',
        run: 'echo hi',
        envs: { MY_VAR: 'x', lower_case: 'y' },
        ports: [8080],
        replicas: 3,
        resources: { cpu: '500m', memory: '2Gi', A100: 1, gpus: 0 },
        restartPolicy: 'OnFailure',
        placement: {
          filters: [{ name: 'gpu', matchLabels: { gpu: 'yes' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }],
          preferences: [{ name: 'cheap', matchExpressions: [{ key: 'spot', operator: 'Exists' }], weight: 50 }],
        },
        priority: 5,
        volumes: { data: { containerDir: '/data', hostDir: '/mnt/data' } },
        maxPendingSeconds: 600,
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Job',
      metadata: { labels: { 'example.com/tier': 'gpu', app: 'hello' }, namespace: 'team', name: 'hello' },
      spec: {
        max_pending_seconds: 600,
        volumes: { data: { host_dir: '/mnt/data', container_dir: '/data' } },
        priority: 5,
        placement: {
          preferences: [{ weight: 50, name: 'cheap', match_expressions: [{ operator: 'Exists', key: 'spot' }] }],
          filters: [{ match_expressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }], match_labels: { gpu: 'yes' }, name: 'gpu' }],
        },
        restart_policy: 'OnFailure',
        resources: { memory: 2048, cpus: 0.5, A100: 1 },
        replicas: 3,
        ports: [8080],
        envs: { MY_VAR: 'x', lower_case: 'y' },
        run: 'echo hi',
        image_pull_policy: 'IfNotPresent',
        image: 'ubuntu:22.04',
      },
    },
  );
  assert.deepEqual(job, {
    kind: 'Job',
    apiVersion: 'v1',
    metadata: { name: 'hello', namespace: 'team', labels: { app: 'hello', 'example.com/tier': 'gpu' }, annotations: {} },
    spec: {
      image: 'ubuntu:22.04',
      imagePullPolicy: 'IfNotPresent',
      run: 'echo hi',
      envs: { MY_VAR: 'x', lower_case: 'y' },
      ports: [8080],
      replicas: 3,
      resources: { cpus: 0.5, memory: 2048, A100: 1 },
      restartPolicy: 'OnFailure',
      placement: {
        filters: [{ name: 'gpu', matchLabels: { gpu: 'yes' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }],
        preferences: [{ name: 'cheap', matchLabels: {}, matchExpressions: [{ key: 'spot', operator: 'Exists', values: [] }], weight: 50 }],
      },
      priority: 5,
      volumes: { data: { containerDir: '/data', hostDir: '/mnt/data' } },
      maxPendingSeconds: 600,
    },
    status: { phase: 'INIT', conditions: [], replicaStatus: {}, jobIds: {}, taskStatus: {} },
  });
});

test('job: minimal document gets every default', () => {
  assert.deepEqual(norm('jobs', { metadata: { name: 'hello' }, spec: {} }), {
    kind: 'Job',
    apiVersion: 'v1',
    metadata: { name: 'hello', namespace: 'default', labels: {}, annotations: {} },
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
    },
    status: { phase: 'INIT', conditions: [], replicaStatus: {}, jobIds: {}, taskStatus: {} },
  });
});

test('job: status snake_case keys map verbatim inside maps', () => {
  const job = norm('job', {
    metadata: { name: 'j' },
    spec: {},
    status: { phase: 'ACTIVE', replica_status: { 'gpu-a': { RUNNING: 2 } }, job_ids: { 'gpu-a': '42' }, task_status: { 'gpu-a': { 'j-0': 'RUNNING' } } },
  });
  assert.deepEqual(job.status, {
    phase: 'ACTIVE',
    conditions: [],
    replicaStatus: { 'gpu-a': { RUNNING: 2 } },
    jobIds: { 'gpu-a': '42' },
    taskStatus: { 'gpu-a': { 'j-0': 'RUNNING' } },
  });
});

test('job: null means "not set" and input is never mutated', () => {
  const input = { metadata: { name: 'j', labels: { a: 'b' } }, spec: { image: null, replicas: null, resources: { cpu: 1 } } };
  const before = structuredClone(input);
  const job = norm('job', input);
  assert.deepEqual(input, before);
  assert.equal((job.spec as any).replicas, 1);
  assert.equal('image' in job.spec, false);
  assert.notEqual(job.metadata.labels, input.metadata.labels);
});

test('job: unknown fields are named with their full path', () => {
  rejects(
    'job',
    { metadata: { name: 'hello', nmae: 'x' }, spec: { resorces: {}, placement: { filters: [{ matchLabels: { a: 'b' }, match_label: {} }] } }, extra: 1 },
    [
      { field: 'extra', message: 'unknown field' },
      { field: 'metadata.nmae', message: 'unknown field' },
      { field: 'spec.resorces', message: 'unknown field' },
      { field: 'spec.placement.filters[0].match_label', message: 'unknown field' },
    ],
    `job 'default/hello' is invalid: extra: unknown field; metadata.nmae: unknown field; spec.resorces: unknown field; spec.placement.filters[0].match_label: unknown field`,
  );
});

test('job: kind must match exactly', () => {
  rejects(
    'job',
    { kind: 'Jobs', metadata: { name: 'hello' }, spec: {} },
    [{ field: 'kind', message: 'expected "Job", got "Jobs"' }],
    `job 'default/hello' is invalid: kind: expected "Job", got "Jobs"`,
  );
  rejects('job', { kind: 'job', metadata: { name: 'hello' }, spec: {} }, [{ field: 'kind', message: 'expected "Job", got "job"' }]);
});

test('job: field errors in plain words', () => {
  rejects(
    'job',
    {
      metadata: { name: 'hello' },
      spec: {
        replicas: 0,
        restartPolicy: 'Sometimes',
        ports: [0, 70000, 'x'],
        envs: { A: 1, '1BAD': 'x' },
        image: 'bad image',
        run: ['echo'],
      },
    },
    [
      { field: 'spec.image', message: 'must be an image reference like ubuntu:22.04, registry.io/team/app:v1 or app@sha256:<digest>' },
      { field: 'spec.run', message: 'must be a string' },
      { field: 'spec.envs.A', message: 'must be a string' },
      { field: 'spec.ports[0]', message: 'must be >= 1' },
      { field: 'spec.ports[1]', message: 'must be <= 65535' },
      { field: 'spec.ports[2]', message: 'must be an integer' },
      { field: 'spec.replicas', message: 'must be >= 1' },
      { field: 'spec.restartPolicy', message: 'must be one of Never, OnFailure, Always (got "Sometimes")' },
      { field: 'spec.envs.1BAD', message: 'invalid environment variable name: use letters, digits and _, not starting with a digit' },
    ],
  );
  rejects('job', { metadata: { name: 'hello' }, spec: { priority: 1.5, maxPendingSeconds: 0, imagePullPolicy: 'Sometimes', replicas: '2' } }, [
    { field: 'spec.imagePullPolicy', message: 'must be one of Always, IfNotPresent, Never (got "Sometimes")' },
    { field: 'spec.replicas', message: 'must be an integer' },
    { field: 'spec.priority', message: 'must be an integer' },
    { field: 'spec.maxPendingSeconds', message: 'must be >= 1' },
  ]);
});

test('job: resources are checked with units', () => {
  rejects('job', { metadata: { name: 'j' }, spec: { resources: { memory: '-1Gi', cpus: 'lots', 'bad key': 1, gpu: -2 } } }, [
    { field: 'spec.resources.memory', message: 'must not be negative' },
    { field: 'spec.resources.cpus', message: 'invalid quantity "lots": must be a number of cores like 2, 0.5 or 500m' },
    { field: 'spec.resources.bad key', message: 'invalid resource name: use cpus, memory, disk, gpus or a GPU type such as A100' },
    { field: 'spec.resources.gpu', message: 'must not be negative' },
  ]);
  rejects('job', { metadata: { name: 'j' }, spec: { resources: 4 } }, [
    { field: 'spec.resources', message: 'must be an object of resource amounts, e.g. {cpus: 2, memory: 4Gi}' },
  ]);
});

test('job: placement rules', () => {
  rejects(
    'job',
    {
      metadata: { name: 'j' },
      spec: {
        placement: {
          filters: [
            {
              name: 'a',
              matchExpressions: [
                { key: 'x', operator: 'In' },
                { key: 'y', operator: 'Exists', values: ['v'] },
              ],
            },
            { name: 'a', matchLabels: { k: 'v' } },
            { name: 'empty' },
            { matchExpressions: [{ key: 'z', operator: 'Near' }] },
          ],
          preferences: [{ matchLabels: { a: 'b' }, weight: 0 }, { matchLabels: { a: 'b' }, weight: 101 }, { matchLabels: { 'bad key': 'b' } }],
        },
      },
    },
    [
      { field: 'spec.placement.filters[3].matchExpressions[0].operator', message: 'must be one of In, NotIn, Exists, DoesNotExist (got "Near")' },
      { field: 'spec.placement.preferences[0].weight', message: 'must be >= 1' },
      { field: 'spec.placement.preferences[1].weight', message: 'must be <= 100' },
      { field: 'spec.placement.filters[0].matchExpressions[0].values', message: 'must not be empty for operator In' },
      { field: 'spec.placement.filters[0].matchExpressions[1].values', message: 'must be empty for operator Exists' },
      { field: 'spec.placement.filters[1].name', message: 'duplicate filter name "a"' },
      { field: 'spec.placement.filters[2]', message: 'a filter needs matchLabels or matchExpressions' },
      {
        field: 'spec.placement.preferences[2].matchLabels',
        message:
          "key \"bad key\" must be a label key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (e.g. \"example.com/tier\")",
      },
    ],
  );
});

test('job: metadata rules', () => {
  rejects('job', { metadata: { name: 'Hello_World', namespace: 'Team', labels: { 'a b': 'x', ok: 'bad value!' }, annotations: { '/x': 'y' } }, spec: {} }, [
    { field: 'metadata.name', message: 'must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit (e.g. "my-name")' },
    { field: 'metadata.namespace', message: 'must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit (e.g. "my-name")' },
    {
      field: 'metadata.labels.a b',
      message:
        "invalid key: must be a label key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (e.g. \"example.com/tier\")",
    },
    {
      field: 'metadata.labels.ok',
      message: "must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    },
    {
      field: 'metadata.annotations./x',
      message:
        "invalid key: must be a label key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (e.g. \"example.com/tier\")",
    },
  ]);
  rejects('job', { metadata: {}, spec: {} }, [{ field: 'metadata.name', message: 'required' }], 'job is invalid: metadata.name: required');
  rejects('job', { spec: {} }, [{ field: 'metadata', message: 'required' }]);
  rejects('job', { metadata: { name: '' }, spec: {} }, [{ field: 'metadata.name', message: 'must not be empty' }]);
  rejects('job', { metadata: { name: 'x'.repeat(64) }, spec: {} }, [{ field: 'metadata.name', message: 'must be no more than 63 characters (got 64)' }]);
  rejects('job', { metadata: { name: 'j', labels: { a: 1 } }, spec: {} }, [{ field: 'metadata.labels.a', message: 'must be a string' }]);
});

test('job: metadata from the Python original is accepted', () => {
  const job = norm('job', { metadata: { name: 'j', resource_version: -1, creation_timestamp: '' }, spec: {} });
  assert.equal(job.metadata.resourceVersion, undefined);
  assert.equal(job.metadata.creationTimestamp, undefined);
  const j2 = norm('job', { metadata: { name: 'j', resource_version: 17, creation_timestamp: '2024-08-25T07:52:58' }, spec: {} });
  assert.equal(j2.metadata.resourceVersion, '17');
  assert.equal(j2.metadata.creationTimestamp, '2024-08-25T07:52:58');
});

test('job: both spellings of one field is an error', () => {
  rejects('job', { metadata: { name: 'j' }, spec: { restartPolicy: 'Never', restart_policy: 'Always' } }, [
    { field: 'spec.restart_policy', message: 'specified twice (restartPolicy and restart_policy)' },
  ]);
});

test('non-objects are a BadRequest', () => {
  for (const [input, got] of [
    [[], 'a list'],
    [null, 'null'],
    ['x', 'string'],
  ] as const) {
    assert.throws(
      () => norm('job', input),
      (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.reason, 'BadRequest');
        assert.equal(err.message, `a job must be an object, got ${got}`);
        return true;
      },
    );
  }
});

test('__proto__ keys never become prototypes', () => {
  const input = JSON.parse('{"metadata":{"name":"j","labels":{"__proto__":{"polluted":"yes"}}},"spec":{}}');
  rejects('job', input, [{ field: 'metadata.labels.__proto__', message: 'invalid key' }]);
  assert.equal(({} as any).polluted, undefined);
});

// ---------------------------------------------------------------- Cluster

test('cluster: camelCase and snake_case, manager aliases, config keys', () => {
  const c = sameForBoth(
    'cluster',
    {
      kind: 'Cluster',
      metadata: { name: 'gpu-a', labels: { zone: 'a' } },
      spec: { manager: 'k8s', config: { kubeconfig: '~/.kube/config', context: 'gpu-a', sshKey: 'k' } },
    },
    {
      kind: 'Cluster',
      metadata: { name: 'gpu-a', labels: { zone: 'a' } },
      spec: { manager: 'kubernetes', config: { kubeconfig: '~/.kube/config', context: 'gpu-a', ssh_key: 'k' } },
    },
  );
  assert.deepEqual(c, {
    kind: 'Cluster',
    apiVersion: 'v1',
    metadata: { name: 'gpu-a', labels: { zone: 'a' }, annotations: {} },
    spec: { manager: 'kubernetes', config: { kubeconfig: '~/.kube/config', context: 'gpu-a', sshKey: 'k' } },
    status: { phase: 'INIT', capacity: {}, allocatable: {}, conditions: [] },
  });
  for (const m of ['k8', 'K8S', 'Kubernetes'])
    assert.equal((norm('cluster', { metadata: { name: 'c' }, spec: { manager: m } }).spec as any).manager, 'kubernetes');
  for (const m of ['local', 'slurm', 'ray', 'sim']) assert.equal((norm('cluster', { metadata: { name: 'c' }, spec: { manager: m } }).spec as any).manager, m);
  // No default (the Python original's kubernetes may not exist here): an empty spec names the missing field.
  rejects('cluster', { metadata: { name: 'c' } }, [{ field: 'spec.manager', message: 'required' }]);
});

test('cluster: raw context names are normalised and kept for display', () => {
  const c = norm('cluster', { metadata: { name: 'kind_My Cluster' }, spec: { manager: 'kubernetes' } });
  assert.equal(c.metadata.name, 'kind-my-cluster');
  assert.deepEqual(c.metadata.annotations, { 'skyshift.io/display-name': 'kind_My Cluster' });
});

test('cluster: status with capacity', () => {
  const c = sameForBoth(
    'cluster',
    {
      metadata: { name: 'c' },
      spec: { manager: 'local' },
      status: {
        phase: 'READY',
        capacity: { n1: { cpus: 4, memory: 8192 } },
        allocatable: { n1: { cpus: 2 } },
        lastHeartbeatTime: '2026-11-22T10:00:00Z',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-22T10:00:00.123Z' }],
      },
    },
    {
      metadata: { name: 'c' },
      spec: { manager: 'local' },
      status: {
        phase: 'READY',
        capacity: { n1: { cpus: 4, memory: 8192 } },
        allocatable: { n1: { cpus: 2 } },
        last_heartbeat_time: '2026-11-22T10:00:00Z',
        conditions: [{ type: 'Ready', status: 'True', last_transition_time: '2026-11-22T10:00:00.123Z' }],
      },
    },
  );
  assert.equal((c.status as any).phase, 'READY');
});

test('cluster: invalid documents', () => {
  rejects(
    'cluster',
    { metadata: { name: 'c', namespace: 'x' }, spec: { manager: 'nomad', config: 'x' } },
    [
      { field: 'metadata.namespace', message: 'must not be set: clusters are not namespaced' },
      { field: 'spec.manager', message: 'must be one of local, slurm, kubernetes, ray, sim (got "nomad")' },
      { field: 'spec.config', message: 'must be an object' },
    ],
    `cluster 'c' is invalid: metadata.namespace: must not be set: clusters are not namespaced; spec.manager: must be one of local, slurm, kubernetes, ray, sim (got "nomad"); spec.config: must be an object`,
  );
  rejects('cluster', { metadata: { name: 'c' }, spec: {}, status: { phase: 'UP', capacity: { n1: { cpus: -1 } }, lastHeartbeatTime: 'yesterday' } }, [
    { field: 'spec.manager', message: 'required' },
    { field: 'status.phase', message: 'must be one of INIT, READY, ERROR, DELETING (got "UP")' },
    { field: 'status.capacity.n1.cpus', message: 'must be >= 0' },
    { field: 'status.lastHeartbeatTime', message: 'must be an ISO 8601 timestamp like 2026-11-22T10:00:00Z' },
  ]);
  rejects('cluster', { metadata: { name: 'c' }, spec: { manager: 'slurm', config: { ssh_key: 'a', sshKey: 'b' } } }, [
    { field: 'spec.config.ssh_key', message: 'specified twice (sshKey and ssh_key)' },
  ]);
});

// ---------------------------------------------------------------- Namespace

test('namespace', () => {
  const ns = sameForBoth('ns', { kind: 'Namespace', metadata: { name: 'team' } }, { metadata: { name: 'team' }, spec: {}, status: {} });
  assert.deepEqual(ns, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'team', labels: {}, annotations: {} }, spec: {}, status: { phase: 'ACTIVE' } });
  rejects('namespace', { metadata: { name: 'team' }, spec: { x: 1 } }, [{ field: 'spec.x', message: 'unknown field' }]);
});

// ---------------------------------------------------------------- FilterPolicy

test('filterpolicy', () => {
  const fp = sameForBoth(
    'fp',
    { kind: 'FilterPolicy', metadata: { name: 'no-cloud' }, spec: { clusterFilter: { include: ['a', 'b'], exclude: ['c'] }, labelsSelector: { team: 'ml' } } },
    {
      kind: 'FilterPolicy',
      metadata: { name: 'no-cloud' },
      spec: { cluster_filter: { exclude: ['c'], include: ['a', 'b'] }, labels_selector: { team: 'ml' } },
    },
  );
  assert.deepEqual(fp, {
    kind: 'FilterPolicy',
    apiVersion: 'v1',
    metadata: { name: 'no-cloud', namespace: 'default', labels: {}, annotations: {} },
    spec: { clusterFilter: { include: ['a', 'b'], exclude: ['c'] }, labelsSelector: { team: 'ml' } },
    status: { phase: 'ACTIVE', conditions: [] },
  });
  assert.deepEqual(norm('filterpolicies', { metadata: { name: 'p' } }).spec, { clusterFilter: { include: [], exclude: [] }, labelsSelector: {} });
  rejects('fp', { metadata: { name: 'p' }, spec: { clusterFilter: { include: [''], exclude: 'c' }, labelsSelector: { 'bad key': 'x', k: 'bad value!' } } }, [
    { field: 'spec.clusterFilter.include[0]', message: 'must not be empty' },
    { field: 'spec.clusterFilter.exclude', message: 'must be a list' },
    {
      field: 'spec.labelsSelector.bad key',
      message:
        "must be a label key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (e.g. \"example.com/tier\")",
    },
    {
      field: 'spec.labelsSelector.k',
      message: "must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    },
  ]);
});

// ---------------------------------------------------------------- Service

test('service', () => {
  const svc = sameForBoth(
    'svc',
    {
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        type: 'LoadBalancer',
        selector: { app: 'web' },
        ports: [
          { port: 80, targetPort: 8080 },
          { port: 53, protocol: 'UDP' },
        ],
        primaryCluster: 'gpu-a',
        clusterIP: '10.0.0.1',
      },
    },
    {
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        type: 'LoadBalancer',
        selector: { app: 'web' },
        ports: [
          { port: 80, target_port: 8080 },
          { protocol: 'UDP', port: 53 },
        ],
        primary_cluster: 'gpu-a',
        cluster_ip: '10.0.0.1',
      },
    },
  );
  assert.deepEqual(svc.spec, {
    type: 'LoadBalancer',
    selector: { app: 'web' },
    ports: [
      { port: 80, targetPort: 8080, protocol: 'TCP' },
      { port: 53, targetPort: 53, protocol: 'UDP' },
    ],
    clusterIP: '10.0.0.1',
    primaryCluster: 'gpu-a',
  });
  assert.deepEqual(svc.status, { conditions: [] });
  assert.equal((norm('service', { metadata: { name: 's' }, spec: {} }).spec as any).type, 'ClusterIP');
  rejects('service', { metadata: { name: 's' }, spec: { type: 'Ingress', ports: [{ port: 0, protocol: 'tcp' }, { targetPort: 80 }] } }, [
    { field: 'spec.type', message: 'must be one of ClusterIP, NodePort, LoadBalancer, ExternalName (got "Ingress")' },
    { field: 'spec.ports[0].port', message: 'must be >= 1' },
    { field: 'spec.ports[0].targetPort', message: 'must be >= 1' },
    { field: 'spec.ports[0].protocol', message: 'must be one of TCP, UDP (got "tcp")' },
    { field: 'spec.ports[1].port', message: 'required' },
  ]);
});

// ---------------------------------------------------------------- Endpoints

test('endpoints', () => {
  const ep = sameForBoth(
    'ep',
    {
      kind: 'Endpoints',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, endpoints: { 'gpu-a': { numEndpoints: 2, exposedToCluster: true }, 'gpu-b': {} }, primaryCluster: 'gpu-a' },
    },
    {
      kind: 'Endpoints',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, endpoints: { 'gpu-a': { num_endpoints: 2, exposed_to_cluster: true }, 'gpu-b': {} }, primary_cluster: 'gpu-a' },
    },
  );
  assert.deepEqual(ep.spec, {
    selector: { app: 'web' },
    endpoints: { 'gpu-a': { numEndpoints: 2, exposedToCluster: true }, 'gpu-b': { numEndpoints: 0, exposedToCluster: false } },
    primaryCluster: 'gpu-a',
  });
  rejects('endpoints', { metadata: { name: 'web' }, spec: { endpoints: { a: { numEndpoints: -1, exposedToCluster: 'yes' } }, primaryCluster: '' } }, [
    { field: 'spec.endpoints.a.numEndpoints', message: 'must be >= 0' },
    { field: 'spec.endpoints.a.exposedToCluster', message: 'must be true or false' },
    { field: 'spec.primaryCluster', message: 'must not be empty' },
  ]);
});

// ---------------------------------------------------------------- Link

test('link', () => {
  const link = sameForBoth(
    'link',
    { kind: 'Link', metadata: { name: 'a-b' }, spec: { sourceCluster: 'a', targetCluster: 'b' } },
    { kind: 'Link', metadata: { name: 'a-b' }, spec: { source_cluster: 'a', target_cluster: 'b' } },
  );
  assert.deepEqual(link, {
    kind: 'Link',
    apiVersion: 'v1',
    metadata: { name: 'a-b', labels: {}, annotations: {} },
    spec: { sourceCluster: 'a', targetCluster: 'b' },
    status: { phase: 'INIT' },
  });
  rejects('link', { metadata: { name: 'l' }, spec: { sourceCluster: 'a' }, status: { phase: 'UP' } }, [
    { field: 'spec.targetCluster', message: 'required' },
    { field: 'status.phase', message: 'must be one of INIT, ACTIVE, FAILED (got "UP")' },
  ]);
  rejects('link', { metadata: { name: 'l' }, spec: { sourceCluster: 'a', targetCluster: 'a' } }, [
    { field: 'spec.targetCluster', message: 'must differ from spec.sourceCluster' },
  ]);
});

// ---------------------------------------------------------------- Event

test('event', () => {
  const ev = sameForBoth(
    'ev',
    {
      kind: 'Event',
      metadata: { name: 'hello.1', namespace: 'team' },
      spec: {
        involvedObject: { kind: 'Job', name: 'hello', namespace: 'team', uid: 'u1' },
        reason: 'Scheduled',
        message: 'placed on gpu-a',
        type: 'Normal',
        count: 2,
        firstTimestamp: '2026-11-22T10:00:00Z',
        lastTimestamp: '2026-11-22T10:01:00Z',
        source: 'scheduler',
      },
    },
    {
      kind: 'Event',
      metadata: { name: 'hello.1', namespace: 'team' },
      spec: {
        involved_object: { kind: 'Job', name: 'hello', namespace: 'team', uid: 'u1' },
        reason: 'Scheduled',
        message: 'placed on gpu-a',
        type: 'Normal',
        count: 2,
        first_timestamp: '2026-11-22T10:00:00Z',
        last_timestamp: '2026-11-22T10:01:00Z',
        source: 'scheduler',
      },
    },
  );
  assert.deepEqual(ev, {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name: 'hello.1', namespace: 'team', labels: {}, annotations: {} },
    spec: {
      involvedObject: { kind: 'Job', name: 'hello', namespace: 'team', uid: 'u1' },
      reason: 'Scheduled',
      message: 'placed on gpu-a',
      type: 'Normal',
      count: 2,
      firstTimestamp: '2026-11-22T10:00:00Z',
      lastTimestamp: '2026-11-22T10:01:00Z',
      source: 'scheduler',
    },
    status: {},
  });
  assert.deepEqual(norm('event', { metadata: { name: 'e' }, spec: { involvedObject: { kind: 'Job', name: 'x' }, reason: 'Evicted' } }).spec, {
    involvedObject: { kind: 'Job', name: 'x' },
    reason: 'Evicted',
    message: '',
    type: 'Normal',
    count: 1,
  });
  rejects('event', { metadata: { name: 'Bad_Name' }, spec: { involvedObject: { kind: 'Job' }, reason: '', type: 'Error', count: 0 } }, [
    { field: 'spec.involvedObject.name', message: 'required' },
    { field: 'spec.reason', message: 'must not be empty' },
    { field: 'spec.type', message: 'must be one of Normal, Warning (got "Error")' },
    { field: 'spec.count', message: 'must be >= 1' },
    {
      field: 'metadata.name',
      message: "must consist of lower-case letters, digits, '-' and '.', and start and end with a letter or digit (e.g. \"hello.17a3\")",
    },
  ]);
});

// ---------------------------------------------------------------- Lease

test('lease', () => {
  const lease = sameForBoth(
    'lease',
    {
      kind: 'Lease',
      metadata: { name: 'controllers' },
      spec: { holderIdentity: 'host-1', leaseDurationSeconds: 15, acquireTime: '2026-11-22T10:00:00Z', renewTime: '2026-11-22T10:00:05Z', leaseTransitions: 3 },
    },
    {
      kind: 'Lease',
      metadata: { name: 'controllers' },
      spec: {
        holder_identity: 'host-1',
        lease_duration_seconds: 15,
        acquire_time: '2026-11-22T10:00:00Z',
        renew_time: '2026-11-22T10:00:05Z',
        lease_transitions: 3,
      },
    },
  );
  assert.deepEqual(lease, {
    kind: 'Lease',
    apiVersion: 'v1',
    metadata: { name: 'controllers', labels: {}, annotations: {} },
    spec: { holderIdentity: 'host-1', leaseDurationSeconds: 15, acquireTime: '2026-11-22T10:00:00Z', renewTime: '2026-11-22T10:00:05Z', leaseTransitions: 3 },
    status: {},
  });
  assert.deepEqual(norm('lease', { metadata: { name: 'l' } }).spec, { leaseDurationSeconds: 15, leaseTransitions: 0 });
  rejects('lease', { metadata: { name: 'l', namespace: 'default' }, spec: { leaseDurationSeconds: 0, leaseTransitions: -1, renewTime: 'now' } }, [
    { field: 'metadata.namespace', message: 'must not be set: leases are not namespaced' },
    { field: 'spec.leaseDurationSeconds', message: 'must be >= 1' },
    { field: 'spec.renewTime', message: 'must be an ISO 8601 timestamp like 2026-11-22T10:00:00Z' },
    { field: 'spec.leaseTransitions', message: 'must be >= 0' },
  ]);
});

// ---------------------------------------------------------------- status subresource

test('normalizeStatus: defaults, snake_case, errors under status.', () => {
  const job = resolveKind('job');
  assert.ok(job);
  assert.deepEqual(
    normalizeStatus(job, {
      phase: 'PENDING',
      conditions: [{ type: 'Schedulable', status: 'False', reason: 'NoCapacity', message: 'gpu-a: insufficient cpus' }],
    }),
    {
      phase: 'PENDING',
      conditions: [{ type: 'Schedulable', status: 'False', reason: 'NoCapacity', message: 'gpu-a: insufficient cpus' }],
      replicaStatus: {},
      jobIds: {},
      taskStatus: {},
    },
  );
  assert.deepEqual(normalizeStatus('Job', { replica_status: { a: { RUNNING: 1 } } }).replicaStatus, { a: { RUNNING: 1 } });
  assert.throws(
    () => normalizeStatus(job, { phase: 'DONE', conditions: [{ status: 'True' }], extra: 1 }, 'default/hello'),
    (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.reason, 'Invalid');
      assert.deepEqual(err.details?.causes, [
        { field: 'status.extra', message: 'unknown field' },
        { field: 'status.phase', message: 'must be one of INIT, PENDING, ACTIVE, COMPLETED, FAILED (got "DONE")' },
        { field: 'status.conditions[0].type', message: 'required' },
      ]);
      assert.match(err.message, /^job 'default\/hello' status is invalid: /);
      return true;
    },
  );
  assert.throws(() => normalizeStatus(job, 'x'), /job status must be an object/);
});

test('every kind normalises a minimal document and is idempotent', () => {
  const minimal: Record<string, unknown> = {
    Cluster: { metadata: { name: 'c' }, spec: { manager: 'local' } },
    Namespace: { metadata: { name: 'n' } },
    Job: { metadata: { name: 'j' }, spec: { run: 'true' } },
    FilterPolicy: { metadata: { name: 'f' } },
    Service: { metadata: { name: 's' }, spec: {} },
    Endpoints: { metadata: { name: 'e' }, spec: {} },
    Link: { metadata: { name: 'l' }, spec: { sourceCluster: 'a', targetCluster: 'b' } },
    Event: { metadata: { name: 'e.1' }, spec: { involvedObject: { kind: 'Job', name: 'j' }, reason: 'Scheduled' } },
    Lease: { metadata: { name: 'l' } },
    Role: { metadata: { name: 'r' }, spec: { rules: [{ resources: ['jobs'], actions: ['get'] }] } },
    User: { metadata: { name: 'u' } },
  };
  for (const k of KINDS) {
    const once = normalizeObject(k, minimal[k.kind]);
    assert.equal(once.kind, k.kind);
    assert.equal(once.apiVersion, 'v1');
    assert.equal(once.metadata.namespace, k.namespaced ? 'default' : undefined);
    const twice = normalizeObject(k, once);
    assert.equal(JSON.stringify(twice), JSON.stringify(once), k.kind);
  }
});
