/** A watch read with a bearer token until a condition holds (test/agent-tokens.test.ts): the events' types and names, BOOKMARKs left out. */
import assert from 'node:assert/strict';

/** Reads NDJSON watch events until `until` holds or the time runs out. */
export async function watchEvents(
  baseUrl: string,
  path: string,
  token: string,
  act: () => Promise<void>,
  until: (events: Array<{ type: string; name: string }>) => boolean,
) {
  const abort = new AbortController();
  const res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  assert.equal(res.status, 200, `watch ${path}: ${res.status}`);
  const events: Array<{ type: string; name: string }> = [];
  const reader = res.body!.getReader();
  const timer = setTimeout(() => abort.abort(), 10_000);
  let buffer = '';
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += Buffer.from(value).toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffer.slice(0, nl)) as { type: string; object: { metadata: { name: string } } };
          buffer = buffer.slice(nl + 1);
          if (line.type !== 'BOOKMARK') events.push({ type: line.type, name: line.object.metadata.name });
          if (until(events)) return;
        }
      }
    } catch {
      /* aborted */
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  await act();
  await reading;
  clearTimeout(timer);
  abort.abort();
  return events;
}
