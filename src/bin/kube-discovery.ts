/**
 * `skyshift up` registers every context of the user's kubeconfig as a
 * Kubernetes cluster, as the original SkyShift did. Only the file is read
 * here (no network): a context whose API server cannot be reached becomes an
 * ERROR cluster through its skylet, with the client's message, and never
 * delays `up`. An existing cluster of the same name is left as it is.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { ApiError, normalizeClusterName } from '../api/index.js';
import type { SkyShiftClient } from '../client/index.js';
import { defaultKubeconfigPaths, kubeconfigContexts } from '../managers/index.js';

/** Registers the contexts of `path` (default: KUBECONFIG or ~/.kube/config); returns the cluster names. */
export async function registerKubeContexts(client: SkyShiftClient, logger: Logger, path?: string): Promise<string[]> {
  const files = path !== undefined ? [path] : defaultKubeconfigPaths().filter((p) => existsSync(p));
  if (files.length === 0) return [];
  // One file is pinned in the Cluster (the controllers may run with another environment); a KUBECONFIG list is read as kubectl would.
  const kubeconfig = files.length === 1 ? resolve(files[0] as string) : undefined;
  const names: string[] = [];
  for (const context of kubeconfigContexts(kubeconfig)) {
    let name: string;
    try {
      name = normalizeClusterName(context);
    } catch {
      logger.warn({ context }, 'kubeconfig context skipped: its name has no letter or digit');
      continue;
    }
    const config = { context, ...(kubeconfig ? { kubeconfig } : {}) };
    try {
      // The raw context name is sent: the API keeps it as the display name when it had to normalise it.
      await client.create('clusters', {
        kind: 'Cluster',
        metadata: { name: context, labels: { 'skyshift.io/kubeconfig': 'true' } },
        spec: { manager: 'kubernetes', config },
      });
      logger.info({ cluster: name, context }, 'kubeconfig context registered');
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) {
        logger.warn({ context, err: err instanceof Error ? err.message : String(err) }, 'kubeconfig context not registered');
        continue;
      }
    }
    names.push(name);
  }
  return names;
}
