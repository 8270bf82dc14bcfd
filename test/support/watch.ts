/** NDJSON watch reader over node:http for black-box tests. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface WatchLine {
  type: string;
  object: any;
}

export interface WatchStream {
  status: number;
  headers: IncomingHttpHeaders;
  events: WatchLine[];
  /** Non-JSON lines seen (protocol violations). */
  garbage: string[];
  ended: boolean;
  /** Resolve once `pred(events)` holds; reject after `timeoutMs`. */
  until(pred: (events: WatchLine[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): void;
}

export function openWatch(baseUrl: string, path: string, timeoutMs = 10_000): Promise<WatchStream> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET', agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`watch ${path}: no response headers within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const listeners = new Set<() => void>();
      const stream: WatchStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        garbage: [],
        ended: false,
        until(pred, ms = 5000, what = 'watch condition') {
          return new Promise((ok, fail) => {
            if (pred(stream.events)) return ok();
            const t = setTimeout(() => {
              listeners.delete(check);
              fail(
                new Error(
                  `timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(stream.events.map((e) => [e.type, e.object?.metadata?.name, e.object?.metadata?.resourceVersion]))}`,
                ),
              );
            }, ms);
            const check = () => {
              if (pred(stream.events)) {
                clearTimeout(t);
                listeners.delete(check);
                ok();
              } else if (stream.ended) {
                clearTimeout(t);
                listeners.delete(check);
                fail(new Error(`stream ended before ${what}; got ${JSON.stringify(stream.events.map((e) => e.type))}`));
              }
            };
            listeners.add(check);
          });
        },
        close() {
          res.destroy();
          req.destroy();
        },
      };
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            stream.events.push(JSON.parse(line) as WatchLine);
          } catch {
            stream.garbage.push(line);
          }
        }
        for (const l of [...listeners]) l();
      });
      const end = () => {
        if (buf.trim()) {
          try {
            stream.events.push(JSON.parse(buf.trim()) as WatchLine);
          } catch {
            stream.garbage.push(buf.trim());
          }
          buf = '';
        }
        stream.ended = true;
        for (const l of [...listeners]) l();
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve(stream);
    });
    req.end();
  });
}
