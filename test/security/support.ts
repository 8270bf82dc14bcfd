/**
 * Helpers for the attack suite (issue 8): raw HTTP that sends paths exactly as
 * written and can pick its source address (so the per-address login throttle
 * of one attack class does not lock out the others), a /healthz sampler that
 * measures from a second connection how long the server takes to answer while
 * an attack runs, the event-loop lag the server itself reports on /metrics,
 * and a recorder for the figures docs/security.md publishes.
 */
import { writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Bytes of the response body (the body text is cut at 64 KiB). */
  bytes: number;
  ms: number;
  /** Set when no complete response arrived (reset, timeout ...). */
  error?: string;
}

export interface Req {
  method: string;
  path: string;
  token?: string | undefined;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Source address on the loopback network, e.g. 127.0.0.9 (default: the OS's choice, 127.0.0.1). */
  from?: string;
  timeoutMs?: number;
  agent?: Agent;
  /** Read only the status line and headers (logs and watches stream). */
  headersOnly?: boolean;
  /** Keep at most this many bytes of the body text (default 64 KiB; the byte count is always complete). */
  keep?: number;
}

const KEEP = 64 * 1024;

/** One request; never throws (network failures come back as status 0 with `error`). */
export function http(base: string, r: Req): Promise<Res> {
  const url = new URL(base);
  const headers: Record<string, string | number> = { ...(r.headers ?? {}) };
  if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
  let payload: Buffer | undefined;
  if (r.body !== undefined) {
    payload = Buffer.from(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    headers['content-type'] = r.contentType ?? 'application/json';
    headers['content-length'] = payload.length;
  }
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (x: Omit<Res, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...x, ms: performance.now() - started });
    };
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: r.method,
      path: r.path,
      headers,
      agent: r.agent ?? false,
      ...(r.from ? { localAddress: r.from } : {}),
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), r.timeoutMs ?? 30_000);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let bytes = 0;
      const finish = (error?: string) => {
        done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), bytes, ...(error ? { error } : {}) });
      };
      if (r.headersOnly) {
        finish();
        res.destroy();
        req.destroy();
        return;
      }
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (kept < (r.keep ?? KEEP)) {
          chunks.push(c);
          kept += c.length;
        }
      });
      res.on('end', () => finish());
      res.on('error', (err) => finish(`response: ${err.message}`));
    });
    req.on('error', (err) => done({ status: 0, headers: {}, body: '', bytes: 0, error: err.message }));
    req.end(payload);
  });
}

/** Percentile of an unsorted sample (nearest rank). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/**
 * GET /healthz every `everyMs` from its own keep-alive connection, one at a
 * time, until stopped. A health check's round trip is how long a request
 * waited for the server's event loop (plus a loopback round trip).
 */
export function healthSampler(base: string, everyMs = 20) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const r = await http(base, { method: 'GET', path: '/healthz', agent, timeoutMs: 60_000 });
      samples.push(r.ms);
      if (r.status !== 200) failures.push(`${r.status} ${r.error ?? r.body.slice(0, 80)}`);
      const wait = everyMs - (performance.now() - t0);
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  })();
  return {
    async stop(): Promise<{ samples: number; maxMs: number; p99Ms: number; p50Ms: number; failures: string[]; all: number[] }> {
      running = false;
      await loop;
      agent.destroy();
      return {
        samples: samples.length,
        maxMs: Math.max(0, ...samples),
        p99Ms: percentile(samples, 99),
        p50Ms: percentile(samples, 50),
        failures,
        all: samples,
      };
    },
  };
}

/**
 * The longest event-loop delay the server saw since the previous scrape:
 * prom-client's default `nodejs_eventloop_lag_max_seconds` (the histogram is
 * reset on every collect, so scrape once before an attack to start afresh).
 * Undefined if /metrics did not answer it.
 */
export async function eventLoopMaxMs(base: string, token: string | undefined): Promise<number | undefined> {
  const r = await http(base, { method: 'GET', path: '/metrics', token, timeoutMs: 60_000 });
  if (r.status !== 200) return undefined;
  const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(r.body);
  return m ? Number(m[1]) * 1000 : undefined;
}

export interface ClassFigures {
  attackClass: string;
  requests: number;
  outcome: string;
  fiveXX: number;
  /** nodejs_eventloop_lag_max_seconds over the class, in ms. */
  eventLoopMaxMs: number | undefined;
  /** /healthz round trips sampled every 20 ms from a second connection. */
  healthMaxMs: number;
  healthP99Ms: number;
  healthSamples: number;
  /** /healthz right after the class (must be under 1 s). */
  healthAfterMs: number;
  passed: boolean;
  failures: string[];
}

export class Recorder {
  readonly rows: ClassFigures[] = [];
  readonly allHealth: number[] = [];

  add(row: ClassFigures, health: number[]): void {
    this.rows.push(row);
    this.allHealth.push(...health);
  }

  table(): string {
    const f = (x: number | undefined) => (x === undefined ? 'n/a' : `${Math.round(x)} ms`);
    const lines = [
      '| attack class | requests tried | outcome | 5xx | longest event-loop stall | /healthz max (p99) during | /healthz after |',
      '|---|---:|---|---:|---:|---:|---:|',
    ];
    for (const r of this.rows) {
      lines.push(
        `| ${r.attackClass} | ${r.requests} | ${r.passed ? '' : '**FAIL** '}${r.outcome} | ${r.fiveXX} | ${f(r.eventLoopMaxMs)} | ${f(r.healthMaxMs)} (${f(r.healthP99Ms)}) | ${f(r.healthAfterMs)} |`,
      );
    }
    const all = this.allHealth;
    lines.push(
      '',
      `Health checks while the suite ran: ${all.length} samples, p50 ${f(percentile(all, 50))}, p99 ${f(percentile(all, 99))}, max ${f(Math.max(0, ...all))}.`,
    );
    return lines.join('\n');
  }

  write(): string {
    const file = process.env['SKYSHIFT_SECURITY_RESULTS'] ?? join(tmpdir(), 'skyshift-security-results.json');
    const all = this.allHealth;
    writeFileSync(
      file,
      JSON.stringify(
        {
          when: new Date().toISOString(),
          rows: this.rows,
          health: { samples: all.length, p50Ms: percentile(all, 50), p99Ms: percentile(all, 99), maxMs: Math.max(0, ...all) },
          table: this.table(),
        },
        null,
        2,
      ),
    );
    return file;
  }
}
