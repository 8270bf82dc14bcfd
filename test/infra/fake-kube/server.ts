/**
 * createFakeKubeServer: the FAKE Kubernetes API server in this process — store, API verbs, HTTP routes, fake scheduler,
 * fake kubelet and fake controllers wired together, plus the exec/port-forward upgrade hook of ./streams.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { PodAddresses } from './addresses.js';
import { FakeApi } from './api.js';
import { FakeControllers } from './controllers.js';
import { authorized, createHandler } from './http.js';
import { FakeKubelet } from './kubelet.js';
import { nodeObject } from './nodes.js';
import { resourceByName } from './resources.js';
import { FakeScheduler } from './scheduler.js';
import { FakeStore } from './store.js';
import { closeStreams, handleStreamUpgrade, type StreamDeps } from './streams/index.js';
import type { FakeKubeOptions, KubeObject, Pod } from './types.js';

export interface FakeKubeServer {
  readonly server: Server;
  readonly store: FakeStore;
  readonly api: FakeApi;
  readonly kubelet: FakeKubelet;
  readonly counts: Map<string, number>;
  /** Listens on 127.0.0.1:`port` (0: a free one); resolves to the base URL. */
  listen(port?: number): Promise<string>;
  /** Closes the server and kills every pod process. */
  close(): Promise<void>;
}

export function createFakeKubeServer(opts: FakeKubeOptions): FakeKubeServer {
  mkdirSync(opts.dir, { recursive: true });
  const store = new FakeStore(opts.historySize ?? 1000);
  const api = new FakeApi(store);
  const ips = new PodAddresses(opts.podIpOctet ?? 10 + (process.pid % 200));
  const kubelet = new FakeKubelet(store, ips, opts.dir, opts.restartDelayMs ?? 200);
  const scheduler = new FakeScheduler(store);
  const controllers = new FakeControllers(api);
  const counts = new Map<string, number>();
  const count = (verb: string, resource: string) => counts.set(`${verb} ${resource}`, (counts.get(`${verb} ${resource}`) ?? 0) + 1);

  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
    api.create(resourceByName('namespaces'), undefined, { metadata: { name: ns } });
  (opts.nodes ?? [{ name: 'fake-node-1' }]).forEach((n, i) => store.write('nodes', nodeObject(n, ips.nodeIp(i))));
  store.write('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    status: { loadBalancer: {} },
  } as KubeObject);

  const streams: StreamDeps = {
    lookupPod(namespace, name) {
      const pod = store.get('pods', namespace, name) as Pod | undefined;
      if (!pod) return undefined;
      const rt = kubelet.runtimeOf(namespace, name);
      return {
        podIP: pod.status?.podIP ?? '',
        phase: pod.status?.phase ?? 'Pending',
        containers: pod.spec.containers.map((c) => c.name),
        env: { ...(rt?.env ?? {}) },
        cwd: rt?.workDir ?? opts.dir,
        uid: pod.metadata.uid ?? '',
      };
    },
    count,
    ...(opts.token ? { token: opts.token } : {}),
  };

  let address = '127.0.0.1:0';
  const server = createServer(
    createHandler({ api, kubelet, token: opts.token, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, counts, streams, serverAddress: () => address }),
  );
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!authorized(req, opts.token) && !(req.url ?? '').includes('/exec') && !(req.url ?? '').includes('/portforward')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    if (!handleStreamUpgrade(req, socket, head, streams)) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  scheduler.start();
  kubelet.start();
  controllers.start();
  // pods are this process's children in their own groups: a test process that exits without close() must not leave them
  const killPodsOnExit = () => kubelet.stop();
  process.on('exit', killPodsOnExit);

  return {
    server,
    store,
    api,
    kubelet,
    counts,
    listen(port = 0) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          const a = server.address() as AddressInfo;
          address = `127.0.0.1:${a.port}`;
          resolve(`http://${address}`);
        });
      });
    },
    async close() {
      process.off('exit', killPodsOnExit);
      scheduler.stop();
      controllers.stop();
      kubelet.stop();
      closeStreams(streams); // http.Server#close waits for upgraded exec/port-forward sockets
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
