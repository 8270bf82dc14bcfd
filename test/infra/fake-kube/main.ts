/**
 * Process entry of the FAKE Kubernetes API server (`node --import tsx test/infra/fake-kube/main.ts '<options json>'`).
 * Prints `FAKE_KUBE_LISTENING <url>` once it serves; SIGTERM/SIGINT (or, under startFakeKube, the end of stdin) kill
 * every pod process and exit.
 */
import { createFakeKubeServer } from './server.js';
import type { FakeKubeOptions } from './types.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as FakeKubeOptions & { port?: number };
if (!opts.dir) {
  console.error('fake-kube: options need "dir"');
  process.exit(2);
}
const fake = createFakeKubeServer(opts);
const url = await fake.listen(opts.port ?? 0);
process.stdout.write(`FAKE_KUBE_LISTENING ${url}\n`);

let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// startFakeKube holds our stdin open: its end means the test process is gone, so the fake and its pods go too
if (process.env.FAKE_KUBE_PARENT_PIPE === '1') {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
