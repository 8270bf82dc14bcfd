/**
 * Adversarial input test, written against DESIGN.md sections 3-4: a real
 * `skyshift server` process receives >= 2,000 seeded, deterministic malformed or
 * hostile requests over real HTTP. Every answer must be a 4xx Status
 * ({kind:'Status', status:'Failure', code = HTTP status, reason from the DESIGN
 * list, non-empty message}); never 2xx, never 5xx, never a hang. Afterwards the
 * server must still be alive and serve valid traffic.
 */
import { strict as assert } from 'node:assert';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from './infra/server.js';
import { call, rawRequest, send, statusProblems, type HttpResult } from './support/http.js';
import {
  FIXTURE_JOBS,
  generate,
  validJob,
  validCluster,
  validFilterPolicy,
  validNamespace,
  validService,
  validLink,
  type HostileRequest,
} from './support/hostile.js';
import { openWatch } from './support/watch.js';

const SEED = Number(process.env.SKYSHIFT_FUZZ_SEED ?? 20261122);
const COUNT = Number(process.env.SKYSHIFT_FUZZ_COUNT ?? 2200);
const CONCURRENCY = 20;

interface Failure {
  req: HostileRequest;
  res: HttpResult;
  problems: string[];
}

function excerpt(s: string, n = 90): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > n ? flat.slice(0, n) + '…' : flat;
}

/** Strip generated unique names so equal failures group together. */
function normalise(label: string): string {
  return excerpt(label.replace(/\b([a-z]+(?:-[a-z]+)*)-[0-9a-z]{1,4}\b/g, '$1-N').replace(/fixture-\d/g, 'fixture-N'), 140);
}

function failureTable(failures: Failure[], total: number): string {
  const groups = new Map<string, { count: number; sample: Failure }>();
  for (const f of failures) {
    const what =
      f.res.status >= 200 && f.res.status < 300
        ? normalise(f.req.label)
        : f.res.status >= 500 || f.res.status === 0
          ? normalise(f.req.label)
          : excerpt(f.res.body, 50);
    const sig = `${f.req.category}|${f.res.status}|${f.problems.join(',')}|${what}`;
    const g = groups.get(sig);
    if (g) g.count++;
    else groups.set(sig, { count: 1, sample: f });
  }
  const rows = [...groups.values()].sort((a, b) => a.sample.req.category.localeCompare(b.sample.req.category) || b.count - a.count);
  const lines = [`${failures.length} of ${total} hostile requests got a wrong answer (${rows.length} distinct signatures):`, ''];
  lines.push('COUNT  CATEGORY              STATUS  PROBLEMS | REQUEST (sample) | BODY EXCERPT');
  for (const { count, sample } of rows.slice(0, 250)) {
    lines.push(
      `${String(count).padEnd(6)} ${sample.req.category.padEnd(21)} ${String(sample.res.status).padEnd(7)} ${sample.problems.join('; ')} | ${excerpt(sample.req.label, 110)} | ${excerpt(sample.res.error ? `[${sample.res.error}] ${sample.res.body}` : sample.res.body)}`,
    );
  }
  if (rows.length > 250) lines.push(`... ${rows.length - 250} more signatures`);
  return lines.join('\n');
}

describe('bad input: hostile requests never crash or 5xx the server', () => {
  let server: TestServer;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const baselineNotes: string[] = [];

  before(async () => {
    server = await startServer();
    for (const name of FIXTURE_JOBS) {
      const r = await call(server.url, 'POST', '/default/jobs', validJob(name));
      assert.ok(r.status === 201 || r.status === 200, `fixture job ${name}: HTTP ${r.status} ${r.text}`);
    }
    // The generator mutates these baselines one field at a time; check each
    // baseline is itself accepted so a rejection really is about the mutation.
    const baselines: [string, unknown][] = [
      ['/clusters', validCluster('baseline-cluster')],
      ['/default/filterpolicies', validFilterPolicy('baseline-fp')],
      ['/namespaces', validNamespace('baseline-ns')],
      ['/default/services', validService('baseline-svc')],
      ['/links', validLink('baseline-link')],
    ];
    for (const [path, body] of baselines) {
      const r = await call(server.url, 'POST', path, body);
      if (r.status !== 201 && r.status !== 200) baselineNotes.push(`baseline POST ${path} rejected: HTTP ${r.status} ${excerpt(r.text, 200)}`);
    }
  });

  after(async () => {
    agent.destroy();
    await server?.stop();
  });

  it(`answers ${COUNT} generated hostile requests (seed ${SEED}) with 4xx Status bodies`, { timeout: 120_000 }, async (t) => {
    for (const note of baselineNotes) t.diagnostic(note);
    const requests = generate(SEED, COUNT);
    assert.ok(requests.length >= 2000, 'at least 2,000 requests');
    const failures: Failure[] = [];
    const perCategory = new Map<string, { n: number; bad: number }>();
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= requests.length) return;
        const req = requests[i]!;
        let res = req.raw
          ? await rawRequest(server.url, req.raw, 8000)
          : await send(server.url, {
              method: req.method,
              path: req.path,
              headers: req.headers,
              body: req.body,
              timeoutMs: 10_000,
              agent,
              headersOnly: req.headersOnly,
            });
        if (!req.raw && res.status === 0 && /ECONNRESET|socket hang up|EPIPE/.test(res.error ?? '')) {
          // A pooled keep-alive socket may have been closed by the server between
          // requests; retry once on a fresh connection before calling it a failure.
          res = await send(server.url, {
            method: req.method,
            path: req.path,
            headers: req.headers,
            body: req.body,
            timeoutMs: 10_000,
            headersOnly: req.headersOnly,
          });
        }
        if (req.headersOnly && res.status === 0 && res.error === 'timeout') res.error = 'no response headers within 10 s (watch accepted but never flushed?)';
        const problems = statusProblems(res, req.expect);
        const c = perCategory.get(req.category) ?? { n: 0, bad: 0 };
        c.n++;
        if (problems.length > 0) {
          c.bad++;
          failures.push({ req, res, problems });
        }
        perCategory.set(req.category, c);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    t.diagnostic(`${requests.length} requests in ${Date.now() - started} ms`);
    for (const [cat, { n, bad }] of [...perCategory].sort()) t.diagnostic(`${cat.padEnd(22)} ${String(n).padStart(5)} requests, ${bad} wrong`);
    const alive = server.daemon.child.exitCode === null && server.daemon.child.signalCode === null;
    if (failures.length > 0) console.log(failureTable(failures, requests.length));
    assert.ok(
      alive,
      `server process died during the barrage (exit ${server.daemon.child.exitCode} ${server.daemon.child.signalCode}); see ${server.dir}/server.log`,
    );
    assert.equal(failures.length, 0, failureTable(failures, requests.length));
  });

  it('is still healthy and serves valid traffic afterwards', { timeout: 30_000 }, async () => {
    assert.equal(server.daemon.child.exitCode, null, 'server process still running');
    assert.equal(server.daemon.child.signalCode, null, 'server process not killed');
    const health = await send(server.url, { method: 'GET', path: '/healthz' });
    assert.equal(health.status, 200, `/healthz: ${health.status} ${health.body}`);

    // No selector: the fixtures' ADDED events make the server flush the headers at once.
    const watch = await openWatch(server.url, '/default/jobs?watch=true');
    try {
      assert.equal(watch.status, 200, 'watch answers 200');
      const created = await call(server.url, 'POST', '/default/jobs', {
        ...validJob('after-barrage'),
        metadata: { name: 'after-barrage', labels: { after: 'barrage' } },
      });
      assert.ok(created.status === 201 || created.status === 200, `create after barrage: ${created.status} ${created.text}`);
      const got = await call(server.url, 'GET', '/default/jobs/after-barrage');
      assert.equal(got.status, 200, `get: ${got.text}`);
      assert.equal(got.json?.metadata?.name, 'after-barrage');
      const list = await call(server.url, 'GET', '/default/jobs');
      assert.equal(list.status, 200);
      assert.ok(Array.isArray(list.json?.items) && list.json.items.some((j: any) => j?.metadata?.name === 'after-barrage'), 'list contains the new job');
      await watch.until((evs) => evs.some((e) => e.type === 'ADDED' && e.object?.metadata?.name === 'after-barrage'), 5000, 'ADDED after-barrage on watch');
      const del = await call(server.url, 'DELETE', '/default/jobs/after-barrage');
      assert.ok(del.status >= 200 && del.status < 300, `delete: ${del.status} ${del.text}`);
      await watch.until((evs) => evs.some((e) => e.type === 'DELETED' && e.object?.metadata?.name === 'after-barrage'), 5000, 'DELETED after-barrage on watch');
      const gone = await call(server.url, 'GET', '/default/jobs/after-barrage');
      assert.equal(gone.status, 404);
    } finally {
      watch.close();
    }
    // Fixtures survived every hostile DELETE/PATCH/PUT with bad preconditions.
    for (const name of FIXTURE_JOBS) {
      const r = await call(server.url, 'GET', `/default/jobs/${name}`);
      assert.equal(r.status, 200, `fixture ${name} must survive hostile requests with bad resourceVersions: ${r.status} ${excerpt(r.text, 200)}`);
      assert.equal(r.json?.metadata?.name, name, `fixture ${name} keeps its name`);
      assert.equal(r.json?.kind, 'Job', `fixture ${name} keeps its kind`);
      assert.equal(r.json?.spec?.replicas, 1, `fixture ${name} keeps replicas=1`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution in the test process');
  });
});
