/**
 * The FAKE Kubernetes API server's API semantics, over plain HTTP: Status errors, optimistic concurrency, patches,
 * selectors, watch resume / 410 Gone / bookmarks, request counting, hostile input (never a 500), and the fake as its own
 * process (token, pause/resume, stop). Its workloads (kubelet, scheduler, controllers): fake-kube-workloads.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeKube } from '../infra/fake-kube/index.js';
import { alive, fakeForTest, kubeClient, podManifest, type FakeForTest } from '../infra/fake-kube/testing.js';
import { waitFor } from '../infra/ports.js';
import { send } from '../support/http.js';
import { openWatch, type WatchStream } from '../support/watch.js';

describe('fake Kubernetes API server: API semantics (in-process)', () => {
  let t: FakeForTest;
  let url = '';
  const k = kubeClient(() => url);
  const podPath = (name = '') => `/api/v1/namespaces/default/pods${name ? `/${name}` : ''}`;
  const getPod = async (name: string) => (await k('GET', podPath(name))).body;
  const phaseOf = (name: string, phase: string) => t.phaseOf(name, phase);
  const pod = podManifest;
  const watches: WatchStream[] = [];

  before(async () => {
    t = await fakeForTest(91, { historySize: 50, bookmarkIntervalMs: 100 });
    url = t.url;
  });
  after(async () => {
    for (const w of watches) w.close();
    await t.close();
  });

  it('serves namespaces and nodes with allocatable, labels and conditions', async () => {
    const ns = await k('GET', '/api/v1/namespaces');
    assert.deepEqual(
      ns.body.items.map((n: any) => n.metadata.name),
      ['default', 'kube-node-lease', 'kube-public', 'kube-system'],
    );
    assert.equal(ns.body.kind, 'NamespaceList');
    const node = (await k('GET', '/api/v1/nodes/gpu-node')).body;
    assert.equal(node.kind, 'Node');
    assert.equal(node.status.allocatable['nvidia.com/gpu'], '2');
    assert.equal(node.status.allocatable.cpu, '8');
    assert.equal(node.metadata.labels['nvidia.com/gpu.product'], 'NVIDIA-A100');
    assert.equal(node.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
    assert.equal((await k('GET', '/api/v1/nodes/cordoned')).body.spec.unschedulable, true);
  });

  it('answers errors as Status objects with the real reasons and messages', async () => {
    const missing = await k('GET', podPath('nope'));
    assert.equal(missing.status, 404);
    assert.deepEqual(
      { kind: missing.body.kind, reason: missing.body.reason, message: missing.body.message, code: missing.body.code },
      { kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found', code: 404 },
    );
    assert.equal((await k('GET', '/apis/apps/v1/namespaces/default/deployments/nope')).body.message, 'deployments.apps "nope" not found');
    assert.equal((await k('GET', '/api/v1/widgets')).status, 404);
    const noNs = await k('POST', '/api/v1/namespaces/nope/pods', pod('x', 'true'));
    assert.equal(noNs.status, 404);
    assert.equal(noNs.body.message, 'namespaces "nope" not found');
    const bad = await k('POST', podPath(), '{not json');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.reason, 'BadRequest');
    const invalid = await k('POST', podPath(), { metadata: { name: 'empty' }, spec: { containers: [] } });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.body.reason, 'Invalid');
    assert.equal(invalid.body.message, 'Pod "empty" is invalid: spec.containers: Required value');
    const keep = await k('DELETE', '/api/v1/namespaces/default');
    assert.deepEqual(
      [keep.status, keep.body.reason, keep.body.message],
      [403, 'Forbidden', 'namespaces "default" is forbidden: this namespace may not be deleted'],
    );
    const badName = await k('POST', podPath(), pod('Bad_Name', 'true'));
    assert.equal(badName.status, 422);
    assert.match(badName.body.message, /^Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  it('creates with generateName, refuses duplicates (409 AlreadyExists) and stale updates (409 Conflict)', async () => {
    const created = await k('POST', podPath(), { ...pod('', 'sleep 30'), metadata: { generateName: 'gen-' } });
    assert.equal(created.status, 201);
    const name: string = created.body.metadata.name;
    assert.match(name, /^gen-[a-z0-9]{5}$/);
    assert.match(created.body.metadata.uid, /^[0-9a-f-]{36}$/);
    const dup = await k('POST', podPath(), pod(name, 'true'));
    assert.equal(dup.status, 409);
    assert.equal(dup.body.reason, 'AlreadyExists');
    assert.equal(dup.body.message, `pods "${name}" already exists`);
    const cur = await getPod(name);
    const ok = await k('PUT', podPath(name), { ...cur, metadata: { ...cur.metadata, labels: { a: 'b' } } });
    assert.equal(ok.status, 200);
    assert.ok(Number(ok.body.metadata.resourceVersion) > Number(cur.metadata.resourceVersion));
    const stale = await k('PUT', podPath(name), { ...cur, metadata: { ...cur.metadata, labels: { a: 'c' } } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, 'Conflict');
    assert.equal(
      stale.body.message,
      `Operation cannot be fulfilled on pods "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
    const merged = await k('PATCH', podPath(name), { metadata: { labels: { m: '1' } } }, 'application/merge-patch+json');
    assert.deepEqual(merged.body.metadata.labels, { a: 'b', m: '1' });
    const jp = await k('PATCH', podPath(name), [{ op: 'remove', path: '/metadata/labels/a' }], 'application/json-patch+json');
    assert.deepEqual(jp.body.metadata.labels, { m: '1' });
    const smp = await k('PATCH', podPath(name), { metadata: { labels: { s: '2' } } }, 'application/strategic-merge-patch+json');
    assert.deepEqual(smp.body.metadata.labels, { m: '1', s: '2' });
    assert.equal((await k('DELETE', `${podPath(name)}?gracePeriodSeconds=0`)).status, 200);
    assert.equal((await k('GET', podPath(name))).status, 404);
  });

  it('selects by labels (=, ==, !=, in, notin, exists, !key) and fields (metadata.name, spec.nodeName, status.phase)', async () => {
    const labelled = [
      ['sel-a', { app: 'web', tier: 'front' }],
      ['sel-b', { app: 'web', tier: 'back' }],
      ['sel-c', { app: 'db' }],
    ] as const;
    for (const [name, labels] of labelled) assert.equal((await k('POST', podPath(), pod(name, 'exit 0', { labels }))).status, 201);
    await Promise.all(labelled.map(([n]) => phaseOf(n, 'Succeeded')));
    const names = async (q: string) =>
      (await k('GET', `${podPath()}?${q}`)).body.items.map((p: any) => p.metadata.name).filter((n: string) => n.startsWith('sel-'));
    const ls = (s: string) => `labelSelector=${encodeURIComponent(s)}`;
    assert.deepEqual(await names(ls('app=web')), ['sel-a', 'sel-b']);
    assert.deepEqual(await names(ls('app==web,tier!=front')), ['sel-b']);
    assert.deepEqual(await names(ls('tier in (front,back)')), ['sel-a', 'sel-b']);
    assert.deepEqual(await names(ls('app notin (web)')), ['sel-c']);
    assert.deepEqual(await names(ls('tier')), ['sel-a', 'sel-b']);
    assert.deepEqual(await names(ls('!tier,app')), ['sel-c']);
    const fs = (s: string) => `fieldSelector=${encodeURIComponent(s)}`;
    assert.deepEqual(await names(fs('metadata.name=sel-b')), ['sel-b']);
    assert.deepEqual(await names(`${fs('status.phase=Succeeded,metadata.name!=sel-a')}&${ls('app')}`), ['sel-b', 'sel-c']);
    const node = (await getPod('sel-a')).spec.nodeName;
    assert.ok((await names(fs(`spec.nodeName=${node}`))).includes('sel-a'));
    assert.deepEqual(await names(fs('spec.nodeName=no-such-node')), []);
    const unsupported = await k('GET', `${podPath()}?${fs('spec.image=x')}`);
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.message, 'field label not supported: spec.image');
    assert.equal((await k('GET', `${podPath()}?${ls('a in (')}`)).status, 400);
    const dc = await k('DELETE', `${podPath()}?${ls('app=web')}`);
    assert.equal(dc.status, 200);
    assert.deepEqual(await names(''), ['sel-c']);
  });

  it('watch: resourceVersion=N sends exactly the later events, in order; selector leavers get DELETED', async () => {
    await k('POST', podPath(), pod('w-1', 'sleep 30', { labels: { w: 'yes' } }));
    const rv = (await k('GET', podPath())).body.metadata.resourceVersion;
    await k('POST', podPath(), pod('w-2', 'sleep 30', { labels: { w: 'yes' } }));
    await k('PATCH', podPath('w-1'), { metadata: { labels: { w: 'no' } } }, 'application/merge-patch+json');
    const w = await openWatch(url, `${podPath()}?watch=1&resourceVersion=${rv}&labelSelector=w%3Dyes`);
    watches.push(w);
    await w.until((ev) => ev.some((e) => e.type === 'DELETED' && e.object.metadata.name === 'w-1'), 5000, 'w-1 leaving the selector');
    const first = w.events.filter((e) => ['w-1', 'w-2'].includes(e.object.metadata.name));
    assert.deepEqual(first[0]!.type + ' ' + first[0]!.object.metadata.name, 'ADDED w-2');
    const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
    assert.deepEqual(
      rvs,
      [...rvs].sort((a, b) => a - b),
      'events arrive in resourceVersion order',
    );
    assert.ok(rvs.every((n) => n > Number(rv)));
    assert.ok(!w.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'w-1'), 'w-1 changed before the watch only as a leaver');
    const fromNow = await openWatch(url, `${podPath()}?watch=true&labelSelector=w%3Dyes`);
    watches.push(fromNow);
    await fromNow.until((ev) => ev.some((e) => e.object.metadata?.name === 'w-2'), 3000, 'initial ADDED w-2');
    assert.equal(fromNow.events[0]!.type, 'ADDED');
    for (const n of ['w-1', 'w-2']) await k('DELETE', `${podPath(n)}?gracePeriodSeconds=0`);
  });

  it('watch: a resourceVersion older than the history gets an ERROR event with 410 Gone (Expired), then the stream closes', async () => {
    const rv = Number((await k('GET', podPath())).body.metadata.resourceVersion);
    for (let i = 0; i < 30; i++) await k('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `cm-${i}` }, data: { i: String(i) } });
    const w = await openWatch(url, `${podPath()}?watch=1&resourceVersion=${rv - 30}`);
    watches.push(w);
    await w.until((ev) => ev.length > 0 && w.ended, 3000, 'ERROR then end');
    assert.equal(w.status, 200);
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0]!.type, 'ERROR');
    assert.equal(w.events[0]!.object.code, 410);
    assert.equal(w.events[0]!.object.reason, 'Expired');
    assert.match(w.events[0]!.object.message, /^too old resource version: \d+ \(\d+\)$/);
  });

  it('watch: BOOKMARK events when asked (carrying the current resourceVersion), and timeoutSeconds ends the stream', async () => {
    const w = await openWatch(
      url,
      `${podPath()}?watch=1&allowWatchBookmarks=true&resourceVersion=${(await k('GET', podPath())).body.metadata.resourceVersion}`,
    );
    watches.push(w);
    await w.until((ev) => ev.filter((e) => e.type === 'BOOKMARK').length >= 2, 2000, 'two bookmarks');
    const bm = w.events.find((e) => e.type === 'BOOKMARK')!;
    assert.equal(bm.object.kind, 'Pod');
    assert.match(bm.object.metadata.resourceVersion, /^\d+$/);
    const nowRv = (await k('GET', podPath())).body.metadata.resourceVersion;
    const plain = await openWatch(url, `${podPath()}?watch=1&resourceVersion=${nowRv}&timeoutSeconds=1`);
    watches.push(plain);
    const t0 = Date.now();
    await plain.until(() => plain.ended, 3000, 'end after timeoutSeconds');
    assert.ok(Date.now() - t0 >= 800);
    assert.ok(!plain.events.some((e) => e.type === 'BOOKMARK'), 'no bookmarks unless asked');
  });

  it('lists in pages with limit and continue', async () => {
    for (let i = 0; i < 5; i++) await k('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: `page-${i}` }, type: 'Opaque' });
    const names: string[] = [];
    let cont = '';
    for (let pages = 0; pages < 10; pages++) {
      const r = (await k('GET', `/api/v1/namespaces/default/secrets?limit=2${cont ? `&continue=${cont}` : ''}`)).body;
      assert.ok(r.items.length <= 2);
      names.push(...r.items.map((x: any) => x.metadata.name));
      if (!r.metadata.continue) break;
      cont = r.metadata.continue;
    }
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  });

  it('counts requests by verb and resource; /fake/* is not counted', async () => {
    await k('POST', '/fake/requests/reset');
    await k('GET', podPath());
    await k('GET', podPath());
    await k('GET', podPath('nope'));
    await k('GET', `${podPath('kl-ok')}/log`);
    await k('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'counted' } });
    const w = await openWatch(url, `${podPath()}?watch=1&timeoutSeconds=1`);
    w.close();
    const counts = (await k('GET', '/fake/requests')).body;
    assert.deepEqual(counts, { 'list pods': 2, 'get pods': 1, 'log pods': 1, 'create configmaps': 1, 'watch pods': 1 });
  });

  it('hostile input never gets a 500', async () => {
    assert.equal((await k('POST', podPath(), pod('target', 'sleep 30'))).status, 201);
    await phaseOf('target', 'Running');
    const cases: [string, string, unknown?, string?][] = [
      ['GET', '/api/v1/namespaces/default/pods/%ZZ'],
      ['GET', '/api/v1/namespaces/default/pods?labelSelector=%28%28%28'],
      ['GET', '/api/v1/namespaces/default/pods?watch=1&resourceVersion=abc'],
      ['GET', '/api/v1/namespaces/default/pods?limit=-1'],
      ['GET', '/api/v1/namespaces/default/pods?continue=%%%'],
      ['GET', '/api/v1/namespaces/default/pods/target/log?tailLines=x'],
      ['POST', '/api/v1/namespaces/default/pods', 'null'],
      ['POST', '/api/v1/namespaces/default/pods', '[1,2]'],
      ['POST', '/api/v1/namespaces/default/pods', { metadata: 'x' }],
      ['POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'h', labels: { a: 1 } }, spec: { containers: [{ name: 'c', image: 'i' }] } }],
      ['POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'h' }, spec: { containers: [{ name: 'c', image: 'i', command: 'sh' }] } }],
      ['POST', '/api/v1/namespaces/default/pods', { kind: 'Service', metadata: { name: 'h' } }],
      ['PATCH', '/api/v1/namespaces/default/pods/target', [{ op: 'add', path: '/a/b/c', value: 1 }], 'application/json-patch+json'],
      ['PATCH', '/api/v1/namespaces/default/pods/target', { metadata: null }, 'application/merge-patch+json'],
      ['PATCH', '/api/v1/namespaces/default/pods/target', '{}', 'application/apply-patch+yaml'],
      ['PATCH', '/api/v1/namespaces/default/pods/target', '{}', 'text/plain'],
      ['PUT', '/api/v1/namespaces/default/pods/target', { metadata: { name: 'other' } }],
      ['PUT', '/apis/apps/v1/namespaces/default/deployments/x/scale', { spec: { replicas: -1 } }],
      ['POST', '/api/v1/namespaces/default/pods', 'x'.repeat(4 * 1024 * 1024)],
      ['DELETE', '/api/v1/namespaces/default/pods/target', '{bad'],
      ['POST', '/api/v1/namespaces/default/pods/x/binding', {}],
      ['GET', '/api/v1/namespaces/default/pods/target/status'],
      ['POST', '/fake/evict/default/%00'],
      ['PUT', '/api/v1/namespaces/default/pods/target/status', { metadata: { name: 'target' }, status: { conditions: 'x' } }],
      ['PUT', '/api/v1/nodes/cpu-node/status', { metadata: { name: 'cpu-node' }, status: { allocatable: { cpu: 4 } } }],
      [
        'PATCH',
        '/api/v1/namespaces/default/pods/target',
        { spec: { containers: [{ name: 'main', command: ['other'] }] } },
        'application/strategic-merge-patch+json',
      ],
      ['PATCH', '/api/v1/namespaces/default/pods/target', { spec: { containers: 'x' } }, 'application/merge-patch+json'],
      ['POST', '/apis/apps/v1/namespaces/default/deployments', { metadata: { name: 'd' }, spec: { template: {} } }],
      [
        'POST',
        '/apis/apps/v1/namespaces/default/deployments',
        { metadata: { name: 'd' }, spec: { replicas: 1e9, selector: {}, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } },
      ],
      ['POST', '/api/v1/namespaces/default/pods', pod('nul', 'echo \u0000')],
      ['POST', '/api/v1/namespaces', 'k8s\u0000\u000a\u00ff\u00ff', 'application/vnd.kubernetes.protobuf'],
      ['POST', '/api/v1/namespaces', 'k8s\u0000\u0012\u0005\u000a\u0080\u0080\u0080\u0080', 'application/vnd.kubernetes.protobuf'],
      ['POST', '/api/v1/namespaces', 'not-k8s', 'application/vnd.kubernetes.protobuf'],
      ['POST', '/api/v1/namespaces/default/pods', 'k8s\u0000', 'application/vnd.kubernetes.protobuf'],
      ['POST', '/api/v1/namespaces', '{}', 'application/cbor'],
    ];
    for (const [method, path, body, ct] of cases) {
      const r = await k(method, path, body, ct);
      assert.ok(r.status >= 200 && r.status < 500, `${method} ${path} -> ${r.status} ${r.text.slice(0, 200)}`);
    }
    const forbidden = await k('PATCH', podPath('target'), { spec: { activeDeadlineSeconds: 5, restartPolicy: 'Always' } }, 'application/merge-patch+json');
    assert.equal(forbidden.status, 422);
    assert.match(forbidden.body.message, /^Pod "target" is invalid: spec: Forbidden: pod updates may not change fields other than/);
    const nul = await phaseOf('nul', 'Failed');
    assert.equal(nul.status.containerStatuses[0].state.terminated.reason, 'StartError');
    assert.equal((await k('GET', podPath('target'))).body.status.phase, 'Running', 'the fake survived and kept its pods');
  });
});

describe('fake Kubernetes API server (own process)', () => {
  it('bearer token, pause (API unreachable, pods keep running), resume, stop kills pods', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-kube-proc-'));
    const fake = await startFakeKube({ dir, token: 'sekret', podIpOctet: 92 });
    const k = kubeClient(() => fake.url);
    const auth = { authorization: 'Bearer sekret' };
    try {
      const denied = await k('GET', '/api/v1/pods');
      assert.equal(denied.status, 401);
      assert.equal(denied.body.reason, 'Unauthorized');
      const p = podManifest('ticker', 'while true; do echo tick; sleep 0.1; done', { restartPolicy: 'Always' });
      assert.equal((await k('POST', '/api/v1/namespaces/default/pods', p, 'application/json', auth)).status, 201);
      const logLen = async () => (await k('GET', '/api/v1/namespaces/default/pods/ticker/log', undefined, 'application/json', auth)).text.length;
      await waitFor('ticking', async () => (await logLen()) > 0, 10_000);
      const podDir = join(
        dir,
        'pods',
        readdirSync(join(dir, 'pods')).find((d) => d.startsWith('default_ticker_'))!,
      );
      const podPid = Number(readFileSync(join(podDir, 'pid'), 'utf8'));
      const fileLen = () => statSync(join(podDir, 'main.log')).size;
      fake.pause();
      const paused = await send(fake.url, { method: 'GET', path: '/api/v1/pods', headers: auth, timeoutMs: 500 });
      assert.equal(paused.status, 0, 'the paused API answers nothing');
      const l0 = fileLen();
      await sleep(400);
      assert.ok(fileLen() > l0, 'the pod kept running while the API was paused');
      fake.resume();
      assert.ok((await logLen()) >= fileLen() - 100);
      assert.ok(alive(podPid), 'the pod process is alive');
      const counts = await fake.requests();
      assert.ok((counts['log pods'] ?? 0) >= 2);
      await fake.resetRequests();
      assert.deepEqual(await fake.requests(), {});
    } finally {
      await fake.stop();
    }
    await sleep(200);
    assert.ok(!alive(fake.pid), 'the fake is gone');
    const podDir = join(dir, 'pods', readdirSync(join(dir, 'pods'))[0]!);
    assert.ok(!alive(Number(readFileSync(join(podDir, 'pid'), 'utf8'))), 'its pods are gone');
    rmSync(dir, { recursive: true, force: true });
  });
});
