/**
 * The FAKE Kubernetes API server's workloads: the fake kubelet (processes, phases, exit codes, env, pod IPs, logs,
 * restarts, graceful deletion, eviction), the fake scheduler (resources, GPUs, cordon, the Unschedulable message), and
 * the fake deployment and endpointslice controllers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fakeForTest, kubeClient, podManifest, type FakeForTest } from '../infra/fake-kube/testing.js';
import { waitFor } from '../infra/ports.js';

describe('fake Kubernetes API server: fake kubelet, scheduler and controllers (in-process)', () => {
  let t: FakeForTest;
  let url = '';
  const k = kubeClient(() => url);
  const podPath = (name = '') => `/api/v1/namespaces/default/pods${name ? `/${name}` : ''}`;
  const getPod = async (name: string) => (await k('GET', podPath(name))).body;
  const phaseOf = (name: string, phase: string) => t.phaseOf(name, phase);
  const pod = podManifest;

  before(async () => {
    t = await fakeForTest(96);
    url = t.url;
  });
  after(() => t.close());

  it('fake kubelet: exit codes and phases, env from fieldRef, its own pod IP, logs with tailLines', async () => {
    const script = 'echo "name=$MY_NAME ns=$MY_NS app=$MY_APP node=$MY_NODE ip=$MY_IP lit=$LIT"; echo line2; echo line3; exit 3';
    const env = [
      { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'MY_APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'LIT', value: 'x-$(MY_NAME)' },
    ];
    await k('POST', podPath(), pod('kl-fail', script, { labels: { app: 'kl' }, container: { env } }));
    const failed = await phaseOf('kl-fail', 'Failed');
    const term = failed.status.containerStatuses[0].state.terminated;
    assert.equal(term.exitCode, 3);
    assert.equal(term.reason, 'Error');
    assert.match(failed.status.podIP, /^127\.96\.\d+\.\d+$/);
    const log = (await k('GET', `${podPath('kl-fail')}/log`)).text;
    assert.equal(log, `name=kl-fail ns=default app=kl node=${failed.spec.nodeName} ip=${failed.status.podIP} lit=x-kl-fail\nline2\nline3\n`);
    assert.equal((await k('GET', `${podPath('kl-fail')}/log?tailLines=2`)).text, 'line2\nline3\n');
    await k('POST', podPath(), pod('kl-ok', 'exit 0'));
    const ok = await phaseOf('kl-ok', 'Succeeded');
    assert.equal(ok.status.containerStatuses[0].state.terminated.reason, 'Completed');
    assert.equal(ok.status.conditions.find((c: any) => c.type === 'Ready').status, 'False');
    await k('POST', podPath(), {
      ...pod('kl-missing', ''),
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'x', command: ['/no/such/binary'] }] },
    });
    const missing = await phaseOf('kl-missing', 'Failed');
    assert.deepEqual(
      [missing.status.containerStatuses[0].state.terminated.exitCode, missing.status.containerStatuses[0].state.terminated.reason],
      [128, 'StartError'],
    );
    assert.match(missing.status.containerStatuses[0].state.terminated.message, /exec: "\/no\/such\/binary"/);
    assert.match(ok.status.containerStatuses[0].containerID, /^fake-kube:\/\/\d+$/);
    // the pod's process can bind its own loopback IP
    await k(
      'POST',
      podPath(),
      pod('kl-bind', "exec node -e \"require('net').createServer().listen(7000, process.env.IP, () => console.log('bound'))\"", {
        container: { env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] },
      }),
    );
    await waitFor('kl-bind bound', async () => (await k('GET', `${podPath('kl-bind')}/log`)).text.includes('bound'), 10_000);
    const running = await getPod('kl-bind');
    assert.equal(running.status.phase, 'Running');
    assert.ok(running.status.containerStatuses[0].state.running.startedAt);
    assert.equal(running.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
    await k('DELETE', `${podPath('kl-bind')}?gracePeriodSeconds=0`);
    const notStarted = await k('GET', `${podPath('nope')}/log`);
    assert.equal(notStarted.status, 404);
  });

  it('fake kubelet: OnFailure restarts until success (restartCount, lastState), Always keeps restarting', async () => {
    await k(
      'POST',
      podPath(),
      pod('rs-onfail', 'if [ -f tried ]; then echo second; exit 0; fi; touch tried; echo first; exit 7', { restartPolicy: 'OnFailure' }),
    );
    const done = await phaseOf('rs-onfail', 'Succeeded');
    const cs = done.status.containerStatuses[0];
    assert.equal(cs.restartCount, 1);
    assert.equal(cs.lastState.terminated.exitCode, 7);
    assert.equal((await k('GET', `${podPath('rs-onfail')}/log`)).text, 'second\n');
    assert.equal((await k('GET', `${podPath('rs-onfail')}/log?previous=true`)).text, 'first\n');
    await k('POST', podPath(), pod('rs-always', 'exit 0', { restartPolicy: 'Always' }));
    await waitFor('two restarts', async () => ((await getPod('rs-always')).status.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 10_000);
    assert.equal((await getPod('rs-always')).status.phase, 'Running');
    await k('DELETE', `${podPath('rs-always')}?gracePeriodSeconds=0`);
  });

  it('log follow streams until the container ends', async () => {
    await k('POST', podPath(), pod('follow', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done'));
    await phaseOf('follow', 'Running');
    const t0 = Date.now();
    const r = await k('GET', `${podPath('follow')}/log?follow=true`);
    assert.equal(r.text, 'tick 1\ntick 2\ntick 3\n');
    assert.ok(Date.now() - t0 >= 300, 'follow waited for the later lines');
  });

  it('fake scheduler: GPU requests go to the GPU node; too-large requests stay Pending Unschedulable with the real message', async () => {
    await k('POST', podPath(), pod('gpu', 'sleep 30', { container: { resources: { limits: { 'nvidia.com/gpu': '2' } } } }));
    await waitFor('gpu bound', async () => (await getPod('gpu')).spec.nodeName, 5000);
    assert.equal((await getPod('gpu')).spec.nodeName, 'gpu-node');
    await k('POST', podPath(), pod('gpu-2', 'sleep 30', { container: { resources: { requests: { 'nvidia.com/gpu': '1' } } } }));
    await k('POST', podPath(), pod('huge', 'sleep 30', { container: { resources: { requests: { cpu: '64', memory: '1Mi' } } } }));
    const msg = (p: any) => p.status.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False')?.message;
    const huge = await waitFor('huge unschedulable', async () => ((p) => (msg(p) ? p : undefined))(await getPod('huge')), 5000);
    assert.equal(huge.status.phase, 'Pending');
    assert.equal(huge.status.conditions.find((c: any) => c.type === 'PodScheduled').reason, 'Unschedulable');
    assert.equal(
      msg(huge),
      '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
    const gpu2 = await waitFor('gpu-2 unschedulable', async () => ((p) => (msg(p) ? p : undefined))(await getPod('gpu-2')), 5000);
    assert.match(msg(gpu2), /Insufficient nvidia\.com\/gpu/);
    // freeing the GPUs lets the pending pod schedule
    await k('DELETE', `${podPath('gpu')}?gracePeriodSeconds=0`);
    await waitFor('gpu-2 bound after gpu left', async () => (await getPod('gpu-2')).spec.nodeName === 'gpu-node', 5000);
    for (const n of ['gpu-2', 'huge']) await k('DELETE', `${podPath(n)}?gracePeriodSeconds=0`);
  });

  it('graceful delete: deletionTimestamp, SIGTERM to the process, object gone once it exits; SIGKILL at the grace deadline', async () => {
    await k('POST', podPath(), pod('grace', 'trap "echo got TERM; exit 0" TERM; echo up; while true; do sleep 0.1; done'));
    await waitFor('grace up', async () => (await k('GET', `${podPath('grace')}/log`)).text.includes('up'), 10_000);
    const del = await k('DELETE', podPath('grace'));
    assert.equal(del.status, 200);
    assert.equal(del.body.kind, 'Pod');
    assert.ok(del.body.metadata.deletionTimestamp);
    assert.equal(del.body.metadata.deletionGracePeriodSeconds, 30);
    await waitFor('grace removed', async () => (await k('GET', podPath('grace'))).status === 404, 5000);
    await k('POST', podPath(), pod('stubborn', 'trap "" TERM; echo up; while true; do sleep 0.1; done', { spec: { terminationGracePeriodSeconds: 1 } }));
    await waitFor('stubborn up', async () => (await k('GET', `${podPath('stubborn')}/log`)).text.includes('up'), 10_000);
    const t0 = Date.now();
    await k('DELETE', podPath('stubborn'));
    await waitFor('stubborn removed', async () => (await k('GET', podPath('stubborn'))).status === 404, 5000);
    assert.ok(Date.now() - t0 >= 700, 'kept until the grace period ended');
  });

  it('fake eviction marks the pod Failed/Evicted and kills its process', async () => {
    await k('POST', podPath(), pod('evictee', 'sleep 30', { restartPolicy: 'Always' }));
    await phaseOf('evictee', 'Running');
    assert.equal((await k('POST', '/fake/evict/default/evictee')).status, 200);
    const p = await phaseOf('evictee', 'Failed');
    assert.equal(p.status.reason, 'Evicted');
    assert.match(p.status.message, /^The node was low on resource: memory\./);
    assert.equal((await k('POST', '/fake/evict/default/nope')).status, 404);
    await k('DELETE', podPath('evictee'));
  });

  it('deployments: the fake controller keeps replicas pods, replaces deleted ones, scales, and cascades deletes', async () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', command: ['sleep', '60'] }] } },
      },
    };
    const path = '/apis/apps/v1/namespaces/default/deployments';
    assert.equal((await k('POST', path, dep)).status, 201);
    const webPods = async () => (await k('GET', `${podPath()}?labelSelector=app%3Dweb`)).body.items.filter((p: any) => !p.metadata.deletionTimestamp);
    await waitFor('2 ready', async () => (await k('GET', `${path}/web`)).body.status?.readyReplicas === 2, 10_000);
    const pods = await webPods();
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.match(p.metadata.name, /^web-[a-z0-9]{10}-[a-z0-9]{5}$/);
      assert.equal(p.metadata.labels['pod-template-hash'], p.metadata.name.split('-')[1]);
      assert.equal(p.metadata.ownerReferences[0].kind, 'Deployment');
    }
    await k('DELETE', `${podPath(pods[0].metadata.name)}?gracePeriodSeconds=0`);
    await waitFor(
      'replacement',
      async () => (await webPods()).length === 2 && !(await webPods()).some((p: any) => p.metadata.name === pods[0].metadata.name),
      5000,
    );
    const scale = await k('PATCH', `${path}/web/scale`, { spec: { replicas: 1 } }, 'application/merge-patch+json');
    assert.equal(scale.body.kind, 'Scale');
    await waitFor('1 replica', async () => (await k('GET', `${path}/web`)).body.status?.replicas === 1, 10_000);
    const d = (await k('GET', `${path}/web`)).body;
    assert.equal(d.status.observedGeneration, d.metadata.generation);
    assert.equal(d.status.conditions.find((c: any) => c.type === 'Available').status, 'True');
    await k('DELETE', `${path}/web`);
    await waitFor('pods cascade-deleted', async () => (await k('GET', `${podPath()}?labelSelector=app%3Dweb`)).body.items.length === 0, 10_000);
  });

  it('deployments: a template change rolls out within maxSurge/maxUnavailable (never fewer ready pods than replicas)', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const tpl = (v: string) => ({
      metadata: { labels: { app: 'roll' }, annotations: { v } },
      spec: { containers: [{ name: 'c', image: 'x', command: ['sleep', '60'] }] },
    });
    const dep = { metadata: { name: 'roll' }, spec: { replicas: 2, selector: { matchLabels: { app: 'roll' } }, template: tpl('1') } };
    assert.equal((await k('POST', path, dep)).status, 201);
    await waitFor('2 ready', async () => (await k('GET', `${path}/roll`)).body.status?.readyReplicas === 2, 10_000);
    const ready = async () =>
      (await k('GET', `${podPath()}?labelSelector=app%3Droll`)).body.items.filter(
        (p: any) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
      );
    const oldHash = (await ready())[0].metadata.labels['pod-template-hash'];
    assert.equal((await k('PATCH', `${path}/roll`, { spec: { template: tpl('2') } }, 'application/merge-patch+json')).status, 200);
    let minReady = 2;
    let total = 0;
    await waitFor(
      'rolled out',
      async () => {
        const r = await ready();
        minReady = Math.min(minReady, r.length);
        total = Math.max(total, (await k('GET', `${podPath()}?labelSelector=app%3Droll`)).body.items.filter((p: any) => !p.metadata.deletionTimestamp).length);
        return r.length === 2 && r.every((p: any) => p.metadata.labels['pod-template-hash'] !== oldHash);
      },
      10_000,
      10,
    );
    assert.equal(minReady, 2, 'maxUnavailable 25% of 2 is 0');
    assert.ok(total <= 3, `maxSurge 25% of 2 is 1: at most 3 pods, saw ${total}`);
    const d = (await k('GET', `${path}/roll`)).body;
    assert.equal(d.metadata.generation, 2);
    await waitFor('status settled', async () => (await k('GET', `${path}/roll`)).body.status?.updatedReplicas === 2, 5000);
    await k('DELETE', `${path}/roll`);
  });

  it('node status subresource: a NotReady node gets no pods (untolerated not-ready taint in the message)', async () => {
    const node = (await k('GET', '/api/v1/nodes/cpu-node')).body;
    const notReady = structuredClone(node);
    notReady.status.conditions.find((c: any) => c.type === 'Ready').status = 'False';
    notReady.spec = { ...notReady.spec, unschedulable: false, taints: [{ key: 'x', effect: 'NoSchedule' }] };
    const put = await k('PUT', '/api/v1/nodes/cpu-node/status', notReady);
    assert.equal(put.status, 200);
    assert.equal(put.body.spec.taints, undefined, 'a status update leaves spec alone');
    await k('POST', podPath(), pod('needs-cpu-node', 'sleep 30', { spec: { nodeSelector: { 'kubernetes.io/hostname': 'cpu-node' } } }));
    const msg = await waitFor(
      'unschedulable',
      async () => (await getPod('needs-cpu-node')).status.conditions?.find((c: any) => c.type === 'PodScheduled')?.message,
      5000,
    );
    assert.equal(
      msg,
      "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    const cur = (await k('GET', '/api/v1/nodes/cpu-node')).body;
    assert.equal((await k('PUT', '/api/v1/nodes/cpu-node/status', { ...cur, status: node.status })).status, 200);
    await waitFor('bound once Ready', async () => (await getPod('needs-cpu-node')).spec.nodeName === 'cpu-node', 5000);
    await k('DELETE', `${podPath('needs-cpu-node')}?gracePeriodSeconds=0`);
  });

  it('a pod bound to a node that does not exist yet starts once the node is created; a shorter second delete wins', async () => {
    await k('POST', podPath(), pod('prebound', 'trap "" TERM; while true; do sleep 0.1; done', { spec: { nodeName: 'later' } }));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await getPod('prebound')).status.phase, 'Pending');
    const node = {
      metadata: { name: 'later' },
      status: { allocatable: { cpu: '1', memory: '1Gi', pods: '10' }, conditions: [{ type: 'Ready', status: 'True' }] },
    };
    assert.equal((await k('POST', '/api/v1/nodes', node)).status, 201);
    const running = await phaseOf('prebound', 'Running');
    assert.equal(running.status.conditions.find((c: any) => c.type === 'PodScheduled').status, 'True');
    await k('DELETE', podPath('prebound')); // 30 s grace, and the process ignores SIGTERM
    const t0 = Date.now();
    await k('DELETE', `${podPath('prebound')}?gracePeriodSeconds=1`);
    await waitFor('prebound removed after the shorter grace', async () => (await k('GET', podPath('prebound'))).status === 404, 5000);
    assert.ok(Date.now() - t0 < 4000);
    await k('DELETE', '/api/v1/nodes/later');
  });

  it('services get EndpointSlices of their ready pods', async () => {
    await k('POST', podPath(), pod('ep-1', 'sleep 30', { labels: { svc: 'ep' } }));
    await phaseOf('ep-1', 'Running');
    await k('POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'ep' },
      spec: { selector: { svc: 'ep' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const slice = await waitFor(
      'slice',
      async () => (await k('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dep')).body.items[0],
      5000,
    );
    assert.deepEqual(
      slice.endpoints.map((e: any) => [e.addresses[0], e.conditions.ready]),
      [[(await getPod('ep-1')).status.podIP, true]],
    );
    assert.deepEqual(slice.ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
    await k('DELETE', `${podPath('ep-1')}?gracePeriodSeconds=0`);
  });
});
