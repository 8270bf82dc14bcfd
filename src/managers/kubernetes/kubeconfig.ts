/**
 * Kubeconfig files: which file (config.kubeconfig, else KUBECONFIG, else
 * ~/.kube/config, as kubectl), which context (config.context, else the one
 * whose normalised name is the cluster's name, as the original SkyShift
 * matched contexts), which namespace (config.namespace, else the context's,
 * else `default`).
 *
 * Error messages name the file and context but never quote the file: a
 * kubeconfig holds credentials, and a path pointing at some other file must
 * not turn its content into an API response.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { normalizeClusterName } from '../../api/index.js';
import { ManagerError } from '../errors.js';

export interface KubeTarget {
  kubeconfig: KubeConfig;
  /** The raw context name. */
  context: string;
  namespace: string;
  server: string;
  /** Where the config came from (for messages). */
  source: string;
}

/** Files kubectl would read: each entry of KUBECONFIG (path-list), else ~/.kube/config. */
export function defaultKubeconfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (env['KUBECONFIG'] ?? '').split(delimiter).filter((p) => p !== '');
  return list.length > 0 ? list : [join(homedir(), '.kube', 'config')];
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** Loads a kubeconfig (one path, or the defaults merged as kubectl merges them). Throws ManagerError without quoting the file. */
export function loadKubeconfig(path: string | undefined, who: string): { kubeconfig: KubeConfig; source: string } {
  const paths = path !== undefined && path !== '' ? [expandHome(path)] : defaultKubeconfigPaths();
  const existing = paths.filter((p) => existsSync(p));
  const source = paths.join(delimiter);
  if (existing.length === 0) throw new ManagerError('Invalid', `${who}: kubeconfig ${source} not found`);
  const kubeconfig = new KubeConfig();
  try {
    if (existing.length === 1) kubeconfig.loadFromFile(existing[0] as string);
    else {
      // Several files: client-node merges KUBECONFIG lists the way kubectl does.
      const saved = process.env['KUBECONFIG'];
      process.env['KUBECONFIG'] = existing.join(delimiter);
      try {
        kubeconfig.loadFromDefault();
      } finally {
        if (saved === undefined) delete process.env['KUBECONFIG'];
        else process.env['KUBECONFIG'] = saved;
      }
    }
  } catch (err) {
    const line = /line (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
    throw new ManagerError('Invalid', `${who}: ${source} is not a valid kubeconfig${line ? ` (error at line ${line})` : ''}`);
  }
  return { kubeconfig, source };
}

/** The raw names of every context in the kubeconfig (empty when there is none). */
export function kubeconfigContexts(path?: string): string[] {
  try {
    return loadKubeconfig(path, 'kubeconfig')
      .kubeconfig.getContexts()
      .map((c) => c.name);
  } catch {
    return [];
  }
}

/** Resolves the cluster's context: config.context, or the context whose normalised name is the cluster's name. */
export function resolveTarget(cluster: string, config: { kubeconfig?: string; context?: string; namespace?: string }): KubeTarget {
  const who = `cluster '${cluster}'`;
  const { kubeconfig, source } = loadKubeconfig(config.kubeconfig, who);
  const contexts = kubeconfig.getContexts();
  const wanted = config.context;
  const context =
    wanted !== undefined && wanted !== ''
      ? contexts.find((c) => c.name === wanted)
      : (contexts.find((c) => c.name === cluster) ?? contexts.find((c) => safeNormalize(c.name) === cluster));
  if (!context) {
    const names = contexts.map((c) => c.name).join(', ') || 'none';
    const what = wanted ? `context '${wanted}'` : `a context named '${cluster}'`;
    throw new ManagerError('Invalid', `${who}: ${what} not found in kubeconfig ${source} (contexts: ${names})`);
  }
  kubeconfig.setCurrentContext(context.name);
  const server = kubeconfig.getCurrentCluster()?.server;
  if (!server) throw new ManagerError('Invalid', `${who}: context '${context.name}' names no cluster server in ${source}`);
  const namespace = config.namespace || context.namespace || 'default';
  return { kubeconfig, context: context.name, namespace, server, source };
}

function safeNormalize(name: string): string | undefined {
  try {
    return normalizeClusterName(name);
  } catch {
    return undefined;
  }
}
