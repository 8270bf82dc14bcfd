/**
 * A lean HTTP load generator for benchmarks: node:http with keep-alive sockets,
 * so the client spends as little CPU as possible on the shared 2-core machine.
 */
import http from 'node:http';

export interface Sample {
  ms: number;
  status: number;
}

export function makeAgent(concurrency: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
}

export function request(
  agent: http.Agent,
  url: URL,
  method: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: body ? { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/**
 * Run `total` operations with `concurrency` in flight; `op(i)` performs operation i.
 * Returns per-operation latencies and the wall time.
 */
export async function runLoad(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<number>,
): Promise<{ latencies: number[]; wallMs: number; errors: number; firstError?: string }> {
  const latencies: number[] = new Array<number>(total);
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const t0 = performance.now();
      try {
        const status = await op(i);
        if (status >= 300) {
          errors++;
          firstError ??= `HTTP ${status}`;
        }
      } catch (err) {
        errors++;
        firstError ??= String(err);
      }
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, wallMs: performance.now() - start, errors, ...(firstError ? { firstError } : {}) };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}
