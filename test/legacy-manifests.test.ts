/**
 * Manifests written for the original (Python) SkyShift, in its style: `env`,
 * `backoff_limit` map to their meaning; `primary_cluster` on a job and
 * `metadata.manager_type` are accepted and ignored with a `Warning` response
 * header (`299 - "..."`, as Kubernetes sends them) that skyctl prints to stderr.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SkyShiftClient } from '../src/client/index.js';
import { ok, runSkyctl } from './infra/skyctl.js';
import { startServer, type TestServer } from './infra/server.js';

const JOB = `kind: Job
metadata:
  name: sweep-orig
  manager_type: k8
spec:
  image: ubuntu:22.04
  run: echo "replica $POD_RANK lr $LEARNING_RATE"; sleep 5
  replicas: 2
  primary_cluster: gpu-a
  backoff_limit: 3
  restart_policy: OnFailure
  env:
    LEARNING_RATE: '0.01'
  resources:
    cpus: 1
    memory: 512
`;

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

test('skyctl apply of an original-style job: stored with envs and backoffLimit, ignored fields warned on stderr', async () => {
  const file = join(server.dir, 'sweep-orig.yaml');
  writeFileSync(file, JOB);
  const run = ok(await runSkyctl(['apply', '-f', file], { home: server.dir, server: server.url }));
  assert.match(run.stderr, /Warning: spec\.primary_cluster is ignored/);
  assert.match(run.stderr, /Warning: metadata\.manager_type is ignored/);
  const job = await new SkyShiftClient({ server: server.url }).get('jobs', 'sweep-orig', { namespace: 'default' });
  const spec = job.spec as Record<string, unknown>;
  assert.deepEqual(spec.envs, { LEARNING_RATE: '0.01' });
  assert.equal(spec.backoffLimit, 3);
  assert.equal(spec.restartPolicy, 'OnFailure');
  assert.equal('primaryCluster' in spec, false);
  assert.equal('manager_type' in job.metadata, false);
});

test('the Warning header is RFC 7234 style and reaches a client that handles it', async () => {
  const body = JSON.stringify({
    kind: 'Cluster',
    metadata: { name: 'edge-orig', manager_type: 'local' },
    spec: { manager: 'sim', config: { nodes: 1, nodeResources: { cpus: 2 } } },
  });
  const res = await fetch(`${server.url}/clusters`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(res.status, 201, await res.clone().text());
  assert.match(res.headers.get('warning') ?? '', /^299 - "metadata\.manager_type is ignored [^"]*"$/);
  const seen: string[] = [];
  const client = new SkyShiftClient({ server: server.url, onWarning: (w) => seen.push(w) });
  await client.create('jobs', { kind: 'Job', metadata: { name: 'p', namespace: 'default' }, spec: { primaryCluster: 'edge-orig' } });
  assert.equal(seen.length, 1);
  assert.match(seen[0] ?? '', /^spec\.primaryCluster is ignored/);
  // Nothing to warn about: no header.
  const plain = await fetch(`${server.url}/default/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"metadata":{"name":"q"},"spec":{}}',
  });
  assert.equal(plain.headers.get('warning'), null);
});
