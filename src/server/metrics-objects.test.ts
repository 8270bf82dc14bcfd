import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../store/index.js';
import { createApiServer } from './app.js';

test('/metrics: jobs by phase, per-cluster capacity and allocatable, heartbeat age', async () => {
  const server = createApiServer({ store: await openStore('memory:') });
  await server.ready();
  const json = { 'content-type': 'application/json' };
  try {
    const created = await server.app.inject({
      method: 'POST',
      url: '/clusters',
      headers: json,
      payload: { kind: 'Cluster', metadata: { name: 'edge' }, spec: { manager: 'sim', config: { nodes: 2, nodeResources: { cpus: 2 } } } },
    });
    assert.equal(created.statusCode, 201, created.body);
    const cluster = created.json();
    const heartbeat = new Date(Date.now() - 5000).toISOString();
    const status = {
      phase: 'READY',
      capacity: { n1: { cpus: 2, memory: 1024 }, n2: { cpus: 2, memory: 1024 } },
      allocatable: { n1: { cpus: 1, memory: 512 }, n2: { cpus: 2, memory: 1024 } },
      lastHeartbeatTime: heartbeat,
    };
    const put = await server.app.inject({ method: 'PUT', url: '/clusters/edge/status', headers: json, payload: { ...cluster, status } });
    assert.equal(put.statusCode, 200, put.body);
    for (const name of ['a', 'b']) {
      const r = await server.app.inject({ method: 'POST', url: '/default/jobs', headers: json, payload: { metadata: { name }, spec: {} } });
      assert.equal(r.statusCode, 201);
    }
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /skyshift_jobs\{phase="INIT"\} 2\n/);
    assert.match(text, /skyshift_jobs\{phase="FAILED"\} 0\n/);
    assert.match(text, /skyshift_cluster_capacity\{cluster="edge",resource="cpus"\} 4\n/);
    assert.match(text, /skyshift_cluster_allocatable\{cluster="edge",resource="cpus"\} 3\n/);
    assert.match(text, /skyshift_cluster_allocatable\{cluster="edge",resource="memory"\} 1536\n/);
    const age = Number(/skyshift_cluster_heartbeat_age_seconds\{cluster="edge",phase="READY"\} ([\d.]+)/.exec(text)?.[1]);
    assert.ok(age >= 5 && age < 60, `heartbeat age ${age}`);
  } finally {
    await server.close();
  }
});
