/**
 * The `kubernetes` manager (aliases k8, k8s): a SkyShift cluster is a
 * kubeconfig context. See docs/kubernetes.md for what it creates and the
 * RBAC it needs.
 *
 * - State comes from two informers (nodes; pods of every namespace, since
 *   capacity is what all pods leave free), started on first use: status()
 *   and tasks() read their caches, so an idle cluster costs its two open
 *   watches. When the API server has said nothing for `probeSeconds`
 *   (default 30), status() asks it for /version once: a hung or partitioned
 *   server becomes an ERROR instead of a cache that silently ages.
 * - submit creates what is missing from the cache (AlreadyExists counts as
 *   done), so a resubmit after a crash adopts the existing pods.
 * - cancel deletes by label selector: one request per job (two with
 *   Deployments), never a pod of another job or another SkyShift cluster.
 * - A pod of ours that disappears or is evicted without SkyShift cancelling it
 *   is reported EVICTED, and the scheduler places the replica again.
 */
import { type Job } from '../../api/index.js';
import { forEachLimit } from '../../lib/index.js';
import type { ExecOptions, ExecSession } from '../capabilities.js';
import { ManagerError } from '../errors.js';
import { submittedJobRef } from '../job-ref.js';
import type { ClusterManager, ClusterState, JobRef, JobShare, JobTasks, LogOptions, TaskState } from '../types.js';
import { Informer, type ChangeType } from './informer.js';
import { resolveTarget, type KubeTarget } from './kubeconfig.js';
import { GPU_RESOURCES, clusterResources, isTerminalPod, type KubeNode, type KubePod } from './resources.js';
import { LABEL, deploymentManifest, jobSelector, objectPrefix, podManifest, podName, type PodOptions } from './pods.js';
import { KubeRequestError, KubeRest, managerError } from './rest.js';
import { acceleratorAffinity } from './affinity.js';
import { podExec, podLogs, podPortForward, type StreamTarget } from './streams.js';
import { jobTasks, podState } from './tasks.js';

export interface KubernetesManagerConfig {
  name: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** Ask the API server for /version when it has been silent this long (default 30). */
  probeSeconds?: number;
}

const CREATE_CONCURRENCY = 8;
const SYNC_WAIT_MS = 10_000;

export class KubernetesManager implements ClusterManager {
  readonly type = 'kubernetes';
  readonly name: string;
  private target: KubeTarget | undefined;
  private restClient: KubeRest | undefined;
  private informers: { nodes: Informer<KubeNode>; pods: Informer<KubePod>; stop: AbortController } | undefined;
  /** uid -> ranks SkyShift cancelled ('all' for the whole job): their pods going away is not an eviction. */
  private readonly cancelled = new Map<string, Set<number> | 'all'>();
  /** Pods of ours that went away without a cancel. */
  private readonly vanished = new Map<string, { ref: { namespace: string; name: string }; ranks: Map<number, TaskState> }>();
  private lastProbe = 0;

  constructor(private readonly config: KubernetesManagerConfig) {
    this.name = config.name;
  }

  private get t(): KubeTarget {
    this.target ??= resolveTarget(this.name, this.config);
    return this.target;
  }

  private get rest(): KubeRest {
    this.restClient ??= new KubeRest(this.t.kubeconfig, this.t.server);
    return this.restClient;
  }

  private streamTarget(): StreamTarget {
    return { cluster: this.name, namespace: this.t.namespace, rest: this.rest, kubeconfig: this.t.kubeconfig };
  }

  async connect(signal?: AbortSignal): Promise<void> {
    try {
      await this.rest.json('/version', signal ? { signal } : {});
    } catch (err) {
      throw managerError(this.name, err);
    }
    this.start();
  }

  /** Starts the informers once; they run until close(). */
  private start(): NonNullable<KubernetesManager['informers']> {
    if (this.informers) return this.informers;
    const stop = new AbortController();
    const nodes = new Informer<KubeNode>(this.rest, { path: '/api/v1/nodes' });
    const pods = new Informer<KubePod>(this.rest, { path: '/api/v1/pods', onChange: (type, pod) => this.podChanged(type, pod) });
    this.informers = { nodes, pods, stop };
    void nodes.run(stop.signal);
    void pods.run(stop.signal);
    return this.informers;
  }

  private isOurs(pod: KubePod): boolean {
    return pod.metadata.labels?.[LABEL.cluster] === this.name && pod.metadata.namespace === this.t.namespace && !!pod.metadata.labels[LABEL.uid];
  }

  /** Remembers pods of ours deleted by someone else (kubectl delete, a drain, a node lost). */
  private podChanged(type: ChangeType, pod: KubePod): void {
    if (type !== 'DELETED' || !this.isOurs(pod)) return;
    const labels = pod.metadata.labels ?? {};
    const uid = labels[LABEL.uid] as string;
    const rank = Number(labels[LABEL.rank]);
    // Deployment pods are replaced by their ReplicaSet; a rank label marks a replica pod.
    if (!Number.isInteger(rank)) return;
    const cancelled = this.cancelled.get(uid);
    if (cancelled === 'all' || cancelled?.has(rank)) return;
    const entry = this.vanished.get(uid) ?? { ref: { namespace: labels[LABEL.namespace] ?? 'default', name: labels[LABEL.job] ?? '' }, ranks: new Map() };
    entry.ranks.set(rank, isTerminalPod(pod) ? podState(pod) : 'EVICTED');
    this.vanished.set(uid, entry);
  }

  /** The informers, synced; throws (ServiceUnavailable) when the API server cannot be listed. */
  private async synced(signal?: AbortSignal): Promise<NonNullable<KubernetesManager['informers']>> {
    const inf = this.start();
    if (inf.nodes.isSynced && inf.pods.isSynced) return inf;
    const wait = AbortSignal.timeout(SYNC_WAIT_MS);
    const both = signal ? AbortSignal.any([signal, wait]) : wait;
    // A failed first list is retried by the informer in the background; the caller hears of the failure now.
    const failed = !!(inf.nodes.lastError ?? inf.pods.lastError);
    const ok = !failed && (await inf.nodes.waitSynced(both)) && (await inf.pods.waitSynced(both));
    if (!ok) {
      const why = inf.nodes.lastError ?? inf.pods.lastError ?? `no answer within ${SYNC_WAIT_MS / 1000} s`;
      throw new ManagerError('ServiceUnavailable', `cluster '${this.name}': cannot list nodes and pods: ${why}`);
    }
    return inf;
  }

  /** A silent API server is asked once per probe period; a failure drops the watches so they reconnect when it is back. */
  private async probe(inf: NonNullable<KubernetesManager['informers']>, signal?: AbortSignal): Promise<void> {
    const period = (this.config.probeSeconds ?? 30) * 1000;
    const now = Date.now();
    const contact = Math.max(inf.nodes.lastContact, inf.pods.lastContact, this.lastProbe);
    if (now - contact < period) return;
    try {
      await this.rest.json('/version', { ...(signal ? { signal } : {}), timeoutMs: Math.min(10_000, period) });
      this.lastProbe = Date.now();
    } catch (err) {
      inf.nodes.reconnect();
      inf.pods.reconnect();
      throw managerError(this.name, err);
    }
  }

  async status(signal?: AbortSignal): Promise<ClusterState> {
    const inf = await this.synced(signal);
    await this.probe(inf, signal);
    const { capacity, allocatable, unavailable } = clusterResources(inf.nodes.list(), inf.pods.list());
    const state: ClusterState = { phase: 'READY', capacity, allocatable, runtime: 'kubernetes' };
    if (unavailable.length > 0) state.message = `nodes not taking pods: ${unavailable.slice(0, 10).join(', ')}${unavailable.length > 10 ? ', ...' : ''}`;
    return state;
  }

  async tasks(signal?: AbortSignal): Promise<JobTasks[]> {
    const inf = await this.synced(signal);
    const all = inf.pods.list().filter((p) => this.isOurs(p));
    // A cancel is remembered only while its pods are still going away: the map stays as small as the work in flight.
    const present = new Set(all.map((p) => p.metadata.labels?.[LABEL.uid]));
    for (const uid of this.cancelled.keys()) if (!present.has(uid)) this.cancelled.delete(uid);
    return jobTasks(
      all.filter((p) => !this.cancelledPod(p)),
      this.vanished,
    );
  }

  private cancelledPod(pod: KubePod): boolean {
    const labels = pod.metadata.labels ?? {};
    const c = this.cancelled.get(labels[LABEL.uid] ?? '');
    if (!c || !pod.metadata.deletionTimestamp) return false;
    return c === 'all' || c.has(Number(labels[LABEL.rank]));
  }

  private podOptions(job: Job, nodes: KubeNode[]): PodOptions {
    const typed = Object.keys(job.spec.resources ?? {}).find((k) => !['cpus', 'memory', 'disk', 'gpus'].includes(k));
    const affinity = typed ? acceleratorAffinity(typed, nodes) : undefined;
    const gpuResource = affinity?.resource ?? GPU_RESOURCES[0];
    return { cluster: this.name, namespace: this.t.namespace, gpuResource, ...(affinity ? { acceleratorAffinity: affinity.terms } : {}) };
  }

  async submit(job: Job, share: JobShare): Promise<string> {
    const ref = submittedJobRef(job);
    const inf = await this.synced();
    const options = this.podOptions(job, inf.nodes.list());
    // Submitting a rank again ends what was remembered of its vanished pod.
    const gone = this.vanished.get(ref.uid);
    for (const r of share.ranks) gone?.ranks.delete(r);
    if (gone?.ranks.size === 0) this.vanished.delete(ref.uid);
    const cancelled = this.cancelled.get(ref.uid);
    if (cancelled instanceof Set) for (const r of share.ranks) cancelled.delete(r);
    else if (cancelled === 'all') this.cancelled.delete(ref.uid);
    const ns = this.t.namespace;
    if (job.spec.restartPolicy === 'Always') {
      await this.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest(job, ref, share.ranks, options));
      return objectPrefix(ref);
    }
    const missing = share.ranks.filter((r) => {
      const pod = inf.pods.get(ns, podName(ref, r));
      return !pod || pod.metadata.deletionTimestamp !== undefined;
    });
    await forEachLimit(missing, CREATE_CONCURRENCY, (rank) => this.create(`/api/v1/namespaces/${ns}/pods`, podManifest(job, ref, rank, options)));
    return objectPrefix(ref);
  }

  /** POST; an object that already exists (a resubmit after a crash) is success. */
  private async create(path: string, body: Record<string, unknown>): Promise<void> {
    try {
      await this.rest.json(path, { method: 'POST', body });
    } catch (err) {
      if (err instanceof KubeRequestError && err.code === 409) return;
      throw managerError(this.name, err);
    }
  }

  async cancel(job: JobRef, ranks?: number[]): Promise<void> {
    const ns = this.t.namespace;
    const all = ranks === undefined;
    const prev = this.cancelled.get(job.uid);
    if (all) this.cancelled.set(job.uid, 'all');
    else if (prev !== 'all') this.cancelled.set(job.uid, new Set([...(prev ?? []), ...ranks]));
    if (all) this.vanished.delete(job.uid);
    else for (const r of ranks) this.vanished.get(job.uid)?.ranks.delete(r);
    const selector = jobSelector(this.name, job);
    try {
      if (all || ranks.length > 0) {
        const rankPart = all ? '' : `,${LABEL.rank} in (${ranks.join(',')})`;
        await this.rest.json(`/api/v1/namespaces/${ns}/pods`, { method: 'DELETE', query: { labelSelector: selector + rankPart } });
      }
      await this.cancelDeployments(job, ranks);
    } catch (err) {
      if (err instanceof KubeRequestError && err.code === 404) return;
      throw managerError(this.name, err);
    }
  }

  /**
   * Deployments (restartPolicy Always): a share holding any cancelled rank is deleted; its other ranks then show as not
   * started, and the skylet submits them again as a new share (its own Deployment).
   */
  private async cancelDeployments(job: JobRef, ranks: number[] | undefined): Promise<void> {
    const ns = this.t.namespace;
    const pods = this.informers?.pods.list() ?? [];
    const known = pods.some((p) => p.metadata.labels?.[LABEL.uid] === job.uid && p.metadata.labels[LABEL.share] !== undefined);
    // Without pods of a Deployment in the cache there may still be a fresh Deployment: look only for whole-job cancels.
    if (!known && ranks !== undefined) return;
    const path = `/apis/apps/v1/namespaces/${ns}/deployments`;
    const list = await this.rest.json<{ items?: { metadata: { name: string; annotations?: Record<string, string> } }[] }>(path, {
      query: { labelSelector: jobSelector(this.name, job) },
    });
    for (const d of list.items ?? []) {
      const shareRanks = (d.metadata.annotations?.['skyshift.io/ranks'] ?? '').split(',').filter(Boolean).map(Number);
      if (ranks !== undefined && !shareRanks.some((r) => ranks.includes(r))) continue;
      await this.rest.json(`${path}/${d.metadata.name}`, { method: 'DELETE', query: { propagationPolicy: 'Background' } });
    }
  }

  logs(job: JobRef, options: LogOptions): AsyncIterable<string> {
    return podLogs(this.streamTarget(), job, options);
  }

  exec(job: JobRef, options: ExecOptions): Promise<ExecSession> {
    return podExec(this.streamTarget(), job, options);
  }

  portForward(job: JobRef, options: { task: string; port: number; signal?: AbortSignal }) {
    return podPortForward(this.streamTarget(), job, options);
  }

  async close(): Promise<void> {
    this.informers?.stop.abort();
    this.informers = undefined;
    this.restClient?.close();
  }
}
