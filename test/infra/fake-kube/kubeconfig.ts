/** Kubeconfig files pointing at FAKE Kubernetes API servers (plain http, optional bearer token), written mode 0600. */
import { writeFileSync, chmodSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigContext {
  name: string;
  server: string;
  namespace?: string;
  token?: string;
}

export function writeKubeconfig(path: string, contexts: KubeconfigContext[], currentContext?: string): void {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    // @kubernetes/client-node refuses a plain-http server unless TLS verification is marked skipped (kubectl accepts both).
    clusters: contexts.map((c) => ({
      name: c.name,
      cluster: { server: c.server, ...(c.server.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {}) },
    })),
    users: contexts.map((c) => ({ name: c.name, user: c.token ? { token: c.token } : {} })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) } })),
    'current-context': currentContext ?? contexts[0]?.name ?? '',
  };
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  chmodSync(path, 0o600); // an existing file keeps its mode on write
}
