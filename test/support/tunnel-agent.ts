/**
 * A stand-in agent for test/agent-tunnel.test.ts: the tunnel (connectTunnel
 * with a LocalManager) plus the least of a skylet that lets the scheduler place
 * work here — a heartbeat (status READY with the manager's capacity) and the
 * submission of every job placed on this cluster. It is not `skyshift agent`
 * (src/agent), so the tunnel is tested on its own.
 *
 *   node --import tsx test/support/tunnel-agent.ts SERVER TOKEN_FILE CLUSTER
 *
 * Replicas run under SKYSHIFT_WORK_ROOT/<cluster>. Prints one JSON line per tunnel event.
 */
import { readFileSync } from 'node:fs';
import { SkyShiftClient } from '../../src/client/index.js';
import { LocalManager } from '../../src/managers/index.js';
import type { ApiObject, Job } from '../../src/api/index.js';
import { connectTunnel } from '../../src/network/index.js';

const [server, tokenFile, cluster] = process.argv.slice(2);
if (!server || !tokenFile || !cluster) throw new Error('usage: tunnel-agent.ts SERVER TOKEN_FILE CLUSTER');
const token = readFileSync(tokenFile, 'utf8').trim();
const manager = new LocalManager({ name: cluster, cpus: 4, memory: 4096 });
const client = new SkyShiftClient({ server, token });
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
process.on('SIGINT', () => stop.abort());

const tunnel = connectTunnel({
  server,
  token,
  cluster,
  manager,
  signal: stop.signal,
  pingMs: 2_000,
  backoff: { baseMs: 200, maxMs: 2_000 },
  onEvent: (e) => console.log(JSON.stringify(e)),
});

const submitted = new Set<string>();
while (!stop.signal.aborted) {
  try {
    const state = await manager.status();
    const c = await client.get('clusters', cluster);
    await client.updateStatus('clusters', {
      ...c,
      status: {
        ...(c.status ?? {}),
        phase: state.phase,
        capacity: state.capacity,
        allocatable: state.allocatable,
        lastHeartbeatTime: new Date().toISOString(),
      },
    });
    for (const job of (await client.list('jobs', { allNamespaces: true })).items as ApiObject[]) {
      const ranks = (job.status as { placements?: Record<string, number[]> } | undefined)?.placements?.[cluster];
      const key = `${job.metadata.uid}:${JSON.stringify(ranks)}`;
      if (!ranks?.length || submitted.has(key)) continue;
      await manager.submit(job as unknown as Job, { ranks });
      submitted.add(key);
    }
  } catch (err) {
    console.log(JSON.stringify({ type: 'skylet-error', error: err instanceof Error ? err.message : String(err) }));
  }
  await new Promise((r) => setTimeout(r, 500));
}
await tunnel.done;
await manager.close();
