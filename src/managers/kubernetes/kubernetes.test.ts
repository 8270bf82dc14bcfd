import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from '../../api/index.js';
import { acceleratorAffinity } from './affinity.js';
import { deploymentManifest, podManifest, podName } from './pods.js';
import { acceleratorType, clusterResources, parseQuantity, type KubeNode, type KubePod } from './resources.js';
import { jobTasks, podRanks } from './tasks.js';

const GI = 2 ** 30;

function node(name: string, allocatable: Record<string, string>, extra: Partial<KubeNode> & { labels?: Record<string, string> } = {}): KubeNode {
  return {
    metadata: { name, labels: extra.labels ?? {} },
    spec: extra.spec ?? {},
    status: { allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(name: string, nodeName: string, requests: Record<string, string>, phase = 'Running', labels: Record<string, string> = {}): KubePod {
  return { metadata: { name, namespace: 'default', labels }, spec: { nodeName, containers: [{ name: 'main', resources: { requests } }] }, status: { phase } };
}

test('quantities follow Kubernetes: millicores, binary and decimal suffixes, bare bytes', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('4'), 4);
  assert.equal(parseQuantity('16Gi'), 16 * GI);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('17179869184'), 16 * GI);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('nonsense'), 0);
  assert.equal(parseQuantity(undefined), 0);
});

test('GPU model from product labels', () => {
  assert.equal(acceleratorType('NVIDIA-A100-SXM4-40GB'), 'A100');
  assert.equal(acceleratorType('Tesla-T4'), 'T4');
  assert.equal(acceleratorType('NVIDIA-H100-80GB-HBM3'), 'H100');
  assert.equal(acceleratorType('NVIDIA-GeForce-RTX-4090'), 'RTX4090');
});

test('allocatable is node allocatable minus requests of non-terminal pods; cordoned, NotReady and tainted nodes are left out', () => {
  const nodes = [
    node('a', { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '2' }, { labels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB' } }),
    node('b', { cpu: '2', memory: '4Gi' }, { spec: { unschedulable: true } }),
    { ...node('c', { cpu: '2', memory: '4Gi' }), status: { allocatable: { cpu: '2' }, conditions: [{ type: 'Ready', status: 'False' }] } },
    node('d', { cpu: '2', memory: '4Gi' }, { spec: { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } }),
  ];
  const pods = [
    pod('p1', 'a', { cpu: '1500m', memory: '1Gi', 'nvidia.com/gpu': '1' }),
    pod('p2', 'a', { cpu: '2', memory: '2Gi' }, 'Succeeded'),
    pod('p3', 'a', { cpu: '500m' }, 'Pending'),
  ];
  const r = clusterResources(nodes, pods);
  assert.deepEqual(r.capacity, { a: { cpus: 4, memory: 8192, gpus: 2, A100: 2 } });
  assert.deepEqual(r.allocatable, { a: { cpus: 2, memory: 7168, gpus: 1, A100: 1 } });
  assert.deepEqual(r.unavailable, ['b (cordoned)', 'c (NotReady)', 'd (tainted node-role.kubernetes.io/control-plane:NoSchedule)']);
});

const job = {
  kind: 'Job',
  metadata: { name: 'hello', namespace: 'default', uid: '3f9a1c2e-0000-4000-8000-000000000000', labels: { app: 'nginx' } },
  spec: {
    image: 'nginx:1',
    run: 'echo hi',
    envs: { A: 'b' },
    ports: [80],
    replicas: 4,
    resources: { cpus: 0.5, memory: 512, A100: 1 },
    restartPolicy: 'Never',
    volumes: {},
  },
  status: {},
} as unknown as Job;
const ref = { uid: job.metadata.uid as string, namespace: 'default', name: 'hello' };

test('a replica is a pod with the job labels, env, ports and resources as requests and limits', () => {
  const nodes = [node('a', { cpu: '4', 'amd.com/gpu': '1' }, { labels: { 'amd.com/gpu.product-name': 'AMD-A100-fake' } })];
  const affinity = acceleratorAffinity('A100', nodes);
  assert.equal(affinity.resource, 'amd.com/gpu');
  const p = podManifest(job, ref, 2, { cluster: 'onprem', namespace: 'team', gpuResource: affinity.resource, acceleratorAffinity: affinity.terms }) as {
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    spec: {
      restartPolicy: string;
      containers: { command: string[]; env: { name: string; value: string }[]; resources: unknown; ports: unknown }[];
      affinity: unknown;
    };
  };
  assert.equal(p.metadata.name, podName(ref, 2));
  assert.equal(p.metadata.name, 'hello-3f9a1-2');
  assert.equal(p.metadata.namespace, 'team');
  assert.deepEqual(p.metadata.labels, {
    app: 'nginx',
    'skyshift.io/job': 'hello',
    'skyshift.io/uid': ref.uid,
    'skyshift.io/namespace': 'default',
    'skyshift.io/cluster': 'onprem',
    'skyshift.io/rank': '2',
    'skyshift.io/task': 'hello-2',
  });
  const c = p.spec.containers[0]!;
  assert.deepEqual(c.command, ['/bin/sh', '-c', 'echo hi']);
  const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
  assert.deepEqual(
    c.env.find((e) => e.name === 'POD_IP'),
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
  );
  assert.equal(env['A'], 'b');
  assert.equal(env['SKYSHIFT_REPLICA'], '2');
  assert.equal(env['PORT'], '80');
  const q = { cpu: '500m', memory: '512Mi', 'amd.com/gpu': '1' };
  assert.deepEqual(c.resources, { requests: q, limits: q });
  assert.deepEqual(p.spec.affinity, {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'amd.com/gpu.product-name', operator: 'In', values: ['AMD-A100-fake'] }] }],
      },
    },
  });
});

test('replica pods map to tasks by rank; deployment pods get their share ranks in creation order', () => {
  const d = deploymentManifest(job, ref, [0, 1], { cluster: 'c', namespace: 'default', gpuResource: 'nvidia.com/gpu' }) as {
    spec: { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } };
  };
  const tmpl = d.spec.template.metadata;
  const dpod = (name: string, at: string, phase = 'Running'): KubePod => ({
    metadata: { name, namespace: 'default', labels: tmpl.labels, annotations: tmpl.annotations, creationTimestamp: at },
    status: { phase },
  });
  const pods = [dpod('x-b', '2026-01-01T00:00:02Z'), dpod('x-a', '2026-01-01T00:00:01Z', 'Pending')];
  const ranks = podRanks(pods);
  assert.equal(ranks.get(pods[1]!), 0);
  assert.equal(ranks.get(pods[0]!), 1);
  const replica = pod('hello-3f9a1-3', 'a', {}, 'Failed', { 'skyshift.io/uid': ref.uid, 'skyshift.io/job': 'hello', 'skyshift.io/rank': '3' });
  replica.status = { phase: 'Failed', reason: 'Evicted' };
  const [jt] = jobTasks([...pods, replica], new Map([[ref.uid, { ref, ranks: new Map([[2, 'EVICTED' as const]]) }]]));
  assert.deepEqual(jt?.tasks, { 'hello-0': 'PENDING', 'hello-1': 'RUNNING', 'hello-3': 'EVICTED', 'hello-2': 'EVICTED' });
  assert.equal(jt?.jobId, 'hello-3f9a1');
});
