/**
 * Helpers for tests of the FAKE Kubernetes API server: a JSON client over plain HTTP, a pod manifest running a shell
 * script, a process liveness check, and a fake started in the test's process with the nodes the tests expect.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../ports.js';
import { send } from '../../support/http.js';
import { createFakeKubeServer, type FakeKubeServer } from './server.js';

/** Running, not a zombie (orphans of the stopped fake may wait for init to reap them). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export interface Reply {
  status: number;
  body: any;
  text: string;
}

export function kubeClient(base: () => string) {
  return async (method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}): Promise<Reply> => {
    const r = await send(base(), {
      method,
      path,
      headers: { ...(body !== undefined ? { 'content-type': contentType } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    let parsed: any;
    try {
      parsed = JSON.parse(r.body);
    } catch {
      parsed = undefined;
    }
    return { status: r.status, body: parsed, text: r.body };
  };
}

export const podManifest = (name: string, script: string, extra: Record<string, any> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: extra.labels ?? {} },
  spec: {
    restartPolicy: extra.restartPolicy ?? 'Never',
    containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script], ...(extra.container ?? {}) }],
    ...(extra.spec ?? {}),
  },
});

export interface FakeForTest {
  fake: FakeKubeServer;
  url: string;
  dir: string;
  k: ReturnType<typeof kubeClient>;
  podPath(name?: string): string;
  getPod(name: string): Promise<any>;
  /** Waits until the pod has `phase`, returns it. */
  phaseOf(name: string, phase: string): Promise<any>;
  close(): Promise<void>;
}

/** An in-process fake with a 2-cpu node, a GPU node (2 x NVIDIA-A100) and a cordoned node. */
export async function fakeForTest(podIpOctet: number, extra: { historySize?: number; bookmarkIntervalMs?: number } = {}): Promise<FakeForTest> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kube-test-'));
  const fake = createFakeKubeServer({
    dir,
    nodes: [
      { name: 'cpu-node', cpu: '2', memory: '4Gi' },
      { name: 'gpu-node', cpu: '8', memory: '16Gi', gpus: { count: 2, product: 'NVIDIA-A100' } },
      { name: 'cordoned', unschedulable: true },
    ],
    podIpOctet,
    restartDelayMs: 50,
    ...extra,
  });
  const url = await fake.listen();
  const k = kubeClient(() => url);
  const podPath = (name = '') => `/api/v1/namespaces/default/pods${name ? `/${name}` : ''}`;
  const getPod = async (name: string) => (await k('GET', podPath(name))).body;
  return {
    fake,
    url,
    dir,
    k,
    podPath,
    getPod,
    phaseOf: (name, phase) => waitFor(`pod ${name} ${phase}`, async () => ((await getPod(name))?.status?.phase === phase ? getPod(name) : undefined), 10_000),
    async close() {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
