/**
 * agent-health: the central side of agent clusters (DESIGN 12). An agent's
 * skylet runs on its own machine, so when the agent is gone nobody there can
 * say so: this controller notices that an agent Cluster's
 * status.lastHeartbeatTime has not changed for `agentStaleHeartbeats`
 * heartbeat periods, marks the cluster ERROR (the scheduler then places
 * nothing there), and after --eviction-grace-seconds of that EVICTS its
 * unfinished replicas so the scheduler places them elsewhere — what a
 * skylet's own heartbeat does for a cluster it can reach.
 *
 * Staleness is measured on this process's clock from when it last saw the
 * heartbeat CHANGE, never by comparing the agent's timestamp with our clock:
 * the agent's machine may be minutes off. A process that just started gives
 * every agent a full period before judging it. An agent states its own
 * heartbeat period in the label below; the period judged is the longer of
 * that and ours, so an agent told to beat less often is not declared dead.
 */
import { setCondition, unfinishedPlacements, type Cluster, type Job } from '../../api/index.js';
import type { Informer } from '../../client/index.js';
import { sleep } from '../../lib/index.js';
import type { Controller, ControllerContext } from '../controller.js';
import { errText, evictReplicas, mutateStatus } from '../runtime/index.js';

export const DEFAULT_AGENT_STALE_HEARTBEATS = 5;
/** Label an agent puts on its Cluster: its heartbeat period in seconds. */
export const AGENT_HEARTBEAT_LABEL = 'skyshift.io/agent-heartbeat-seconds';
/** A label claiming more than this is not believed (an hour of silence is never "alive"). */
const MAX_AGENT_HEARTBEAT_SECONDS = 3600;

interface Seen {
  /** The lastHeartbeatTime last seen (the agent's clock; compared for change only). */
  beat: string;
  /** When (our clock) it was first seen with that value. */
  at: number;
  /** When (our clock) this controller saw or made the cluster ERROR while stale. */
  errorSince?: number;
}

export class AgentHealth implements Controller {
  readonly name = 'agent-health';
  private readonly clusters: Informer<Cluster>;
  private readonly jobs: Informer<Job>;
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly ctx: ControllerContext) {
    this.clusters = ctx.informers.informer<Cluster>('clusters');
    this.jobs = ctx.informers.informer<Job>('jobs');
  }

  private staleMs(cluster: Cluster): number {
    const { options } = this.ctx;
    const claimed = Number(cluster.metadata.labels?.[AGENT_HEARTBEAT_LABEL]);
    const theirs = Number.isFinite(claimed) && claimed > 0 ? Math.min(claimed, MAX_AGENT_HEARTBEAT_SECONDS) : 0;
    return (options.agentStaleHeartbeats ?? DEFAULT_AGENT_STALE_HEARTBEATS) * Math.max(options.heartbeatSeconds, theirs) * 1000;
  }

  async run(signal: AbortSignal): Promise<void> {
    const periodMs = this.ctx.options.heartbeatSeconds * 1000;
    while (!signal.aborted) {
      await this.check(signal);
      await sleep(periodMs, signal, this.ctx.clock);
    }
  }

  /** One pass over the agent clusters (exported for tests through the class). */
  async check(signal: AbortSignal): Promise<void> {
    const now = this.ctx.clock.now();
    const names = new Set<string>();
    for (const cluster of this.clusters.list()) {
      if (cluster.spec?.agent !== true) continue;
      const name = cluster.metadata.name;
      names.add(name);
      // One broken cluster object or failed write must not stop the others' checks.
      try {
        await this.checkOne(cluster, now, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.ctx.logger.warn({ cluster: name, err: errText(err) }, 'agent health check failed');
      }
    }
    for (const name of [...this.seen.keys()]) if (!names.has(name)) this.seen.delete(name);
  }

  private async checkOne(cluster: Cluster, now: number, signal: AbortSignal): Promise<void> {
    const name = cluster.metadata.name;
    const beat = cluster.status?.lastHeartbeatTime ?? '';
    let seen = this.seen.get(name);
    if (!seen || seen.beat !== beat) {
      seen = { beat, at: now };
      this.seen.set(name, seen);
    }
    const silentMs = now - seen.at;
    if (silentMs < this.staleMs(cluster)) {
      delete seen.errorSince;
      return;
    }
    const phase = cluster.status?.phase;
    if (phase !== 'ERROR') {
      await this.markError(cluster, beat, silentMs, signal);
      seen.errorSince = now;
      return;
    }
    // Found ERROR and stale (the agent's own report, or ours before a restart): the grace counts from now at the latest.
    seen.errorSince ??= now;
    const grace = this.ctx.options.evictionGraceSeconds;
    if (now - seen.errorSince >= grace * 1000) await this.evict(name, grace, signal);
  }

  private async markError(cluster: Cluster, beat: string, silentMs: number, signal: AbortSignal): Promise<void> {
    const name = cluster.metadata.name;
    const message = beat
      ? `agent of cluster '${name}' has sent no heartbeat for ${Math.round(silentMs / 1000)} s`
      : `no agent has connected for cluster '${name}' yet`;
    const nowIso = new Date(this.ctx.clock.now()).toISOString();
    const out = await mutateStatus<Cluster>(
      this.ctx.client,
      'clusters',
      cluster,
      (c) => {
        // The agent wrote a heartbeat meanwhile (this copy is a fresh one after a Conflict): it is back, nothing to mark.
        if ((c.status?.lastHeartbeatTime ?? '') !== beat || c.status?.phase === 'ERROR') return false;
        c.status = {
          ...c.status,
          phase: 'ERROR',
          message,
          conditions: setCondition(c.status?.conditions, { type: 'Ready', status: 'False', reason: 'AgentLost', message }, nowIso),
        };
        return true;
      },
      { signal },
    );
    if (!out || out.status?.phase !== 'ERROR') return;
    this.ctx.events.record(out, 'ClusterError', `cluster '${name}' is ERROR: ${message}`, { source: 'agent-health' });
    this.ctx.logger.info({ cluster: name, message }, 'agent cluster marked ERROR');
  }

  private async evict(name: string, grace: number, signal: AbortSignal): Promise<void> {
    for (const job of this.jobs.list()) {
      if (job.status?.phase !== 'ACTIVE') continue;
      const ranks = unfinishedPlacements(job)[name];
      if (!ranks || ranks.length === 0) continue;
      const message = `replicas ${ranks.join(',')} evicted: the agent of cluster '${name}' has been unreachable for more than ${grace} s`;
      await evictReplicas(this.ctx, job, name, ranks, message, 'agent-health', signal);
    }
  }
}

export function createAgentHealth(ctx: ControllerContext): Controller {
  return new AgentHealth(ctx);
}
