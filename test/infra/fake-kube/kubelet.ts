/**
 * The FAKE kubelet: runs container[0]'s command+args of each bound pod as a local process (the image is ignored; no
 * command and no args runs `sleep infinity` as a stand-in), in its own process group (so stopping the fake's API process
 * never stops pods), in a per-pod work dir, with the container's env, logging stdout+stderr to a per-pod file; reports
 * phases, exit codes and restarts; terminates deleted pods gracefully (SIGTERM, SIGKILL at the grace deadline).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { PodAddresses } from './addresses.js';
import { buildEnv, expand } from './env.js';
import { isTerminal, setCondition } from './scheduler.js';
import { nowSeconds, type FakeStore } from './store.js';
import { guard } from './guard.js';
import type { ContainerState, ContainerStatus, Node, Pod, PodStatus } from './types.js';

type Terminated = NonNullable<ContainerState['terminated']>;

export interface PodRuntime {
  uid: string;
  namespace: string;
  name: string;
  ip: string;
  dir: string;
  workDir: string;
  logPath: string;
  env: Record<string, string>;
  proc?: ChildProcess;
  /** bumped on every container start, so a follower of the log knows its container is gone */
  starts: number;
  restartCount: number;
  startedAt?: string;
  /** fake-kube://<pid> of the latest container process, kept after it exits (as the real status keeps it) */
  containerID?: string;
  lastTerminated?: Terminated;
  restartTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  /** when the grace period of a deletion ends (SIGKILL) */
  killAt?: number;
  stopping: boolean;
  evicted: boolean;
  done: boolean;
}

export class FakeKubelet {
  private readonly runtimes = new Map<string, PodRuntime>();
  private readonly dirty = new Set<string>();
  private unsubscribe?: () => void;
  private stopped = false;

  constructor(
    private readonly store: FakeStore,
    private readonly ips: PodAddresses,
    private readonly dataDir: string,
    private readonly restartDelayMs = 200,
  ) {}

  start(): void {
    this.unsubscribe = this.store.subscribe((e) => {
      if (e.resource !== 'pods' && e.resource !== 'nodes') return;
      if (this.dirty.size === 0) setImmediate(() => this.flush());
      // a node appearing lets the pods bound to it start
      const pods = e.resource === 'pods' ? [e.object] : this.store.list('pods').filter((p) => (p as Pod).spec.nodeName === e.object.metadata.name);
      for (const p of pods) this.dirty.add(`${p.metadata.namespace}/${p.metadata.name}`);
    });
    for (const p of this.store.list('pods')) this.dirty.add(`${p.metadata.namespace}/${p.metadata.name}`);
    setImmediate(() => this.flush());
  }

  /** Kills every pod process (SIGKILL to each group) and stops reacting. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const rt of this.runtimes.values()) {
      clearTimeout(rt.restartTimer);
      clearTimeout(rt.killTimer);
      killGroup(rt.proc, 'SIGKILL');
    }
  }

  runtimeOf(namespace: string, name: string): PodRuntime | undefined {
    const pod = this.store.get('pods', namespace, name);
    return pod ? this.runtimes.get(pod.metadata.uid!) : undefined;
  }

  /** Marks a pod Failed/Evicted and kills its process, as a kubelet under node pressure does. False when no such pod. */
  evict(namespace: string, name: string): boolean {
    const pod = this.store.get('pods', namespace, name) as Pod | undefined;
    if (!pod) return false;
    const rt = this.runtimes.get(pod.metadata.uid!);
    const message = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. ';
    const finishedAt = nowSeconds();
    if (rt) {
      rt.evicted = true;
      rt.done = true;
      clearTimeout(rt.restartTimer);
      killGroup(rt.proc, 'SIGKILL');
    }
    this.writeStatus(pod, (s) => {
      const startedAt = rt?.startedAt;
      s.phase = 'Failed';
      s.reason = 'Evicted';
      s.message = message;
      s.conditions = setCondition(s.conditions, { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message });
      for (const t of ['Ready', 'ContainersReady']) s.conditions = setCondition(s.conditions, { type: t, status: 'False', reason: 'PodFailed' });
      s.containerStatuses = this.statuses(pod, rt, {
        terminated: { exitCode: 137, reason: 'Error', message: 'The container was evicted', startedAt, finishedAt },
      });
    });
    return true;
  }

  private flush(): void {
    const keys = [...this.dirty];
    this.dirty.clear();
    if (this.stopped) return;
    for (const key of keys) {
      const [ns, name] = key.split('/') as [string, string];
      guard(`fake kubelet: pod ${key}`, () => this.sync(ns, name));
    }
    // runtimes whose pod is gone (deleted, or replaced by a new pod of the same name)
    for (const rt of [...this.runtimes.values()]) {
      const pod = this.store.get('pods', rt.namespace, rt.name);
      if (!pod || pod.metadata.uid !== rt.uid) this.forget(rt, 'SIGKILL');
    }
  }

  private sync(ns: string, name: string): void {
    const pod = this.store.get('pods', ns, name) as Pod | undefined;
    if (!pod || !pod.spec.nodeName) return;
    const rt = this.runtimes.get(pod.metadata.uid!);
    if (pod.metadata.deletionTimestamp) {
      if (!rt || !rt.proc || rt.proc.exitCode !== null || rt.proc.signalCode !== null) return void this.finishDeletion(pod, rt);
      // the grace period counts from now (deletionTimestamp has only second precision); a later, shorter one wins
      const graceMs = (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
      if (!rt.stopping || Date.now() + graceMs < (rt.killAt ?? Infinity)) {
        if (!rt.stopping) killGroup(rt.proc, 'SIGTERM');
        rt.stopping = true;
        clearTimeout(rt.restartTimer);
        clearTimeout(rt.killTimer);
        rt.killAt = Date.now() + graceMs;
        rt.killTimer = setTimeout(() => killGroup(rt.proc, 'SIGKILL'), graceMs);
      }
      return;
    }
    if (rt || isTerminal(pod)) return;
    if (!this.store.get('nodes', undefined, pod.spec.nodeName)) return; // bound to a node that does not exist: stays Pending
    this.run(pod);
  }

  private run(pod: Pod): void {
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    const dir = join(this.dataDir, 'pods', `${namespace}_${name}_${uid.slice(0, 8)}`);
    const workDir = join(dir, 'work');
    mkdirSync(workDir, { recursive: true });
    const node = this.store.get('nodes', undefined, pod.spec.nodeName!) as Node | undefined;
    const hostIP = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
    const ip = this.ips.allocate();
    const rt: PodRuntime = {
      uid,
      namespace,
      name,
      ip,
      dir,
      workDir,
      logPath: join(dir, `${pod.spec.containers[0]!.name}.log`),
      env: {},
      starts: 0,
      restartCount: 0,
      stopping: false,
      evicted: false,
      done: false,
    };
    this.runtimes.set(uid, rt);
    const startTime = nowSeconds();
    this.writeStatus(pod, (s) => {
      s.podIP = ip;
      s.podIPs = [{ ip }];
      s.hostIP = hostIP;
      s.hostIPs = [{ ip: hostIP }];
      s.startTime = startTime;
      // a pod created with spec.nodeName never met the scheduler: the kubelet reports it scheduled
      if (!s.conditions?.some((c) => c.type === 'PodScheduled')) s.conditions = setCondition(s.conditions, { type: 'PodScheduled', status: 'True' });
      s.conditions = setCondition(s.conditions, { type: 'PodReadyToStartContainers', status: 'True' });
      s.conditions = setCondition(s.conditions, { type: 'Initialized', status: 'True' });
    });
    rt.env = buildEnv(this.store.get('pods', namespace, name) as Pod, workDir);
    this.startContainer(rt);
  }

  private startContainer(rt: PodRuntime): void {
    const pod = this.current(rt);
    if (!pod || rt.stopping || rt.done || this.stopped) return;
    const c = pod.spec.containers[0]!;
    const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => expand(a, rt.env));
    const [cmd, ...args] = argv.length > 0 ? argv : ['sleep', 'infinity'];
    if (existsSync(rt.logPath) && rt.starts > 0) renameSync(rt.logPath, `${rt.logPath}.previous`);
    const fd = openSync(rt.logPath, 'a');
    rt.starts++;
    const startedAt = nowSeconds();
    rt.startedAt = startedAt;
    let child: ChildProcess;
    try {
      child = spawn(cmd!, args, { cwd: rt.workDir, env: rt.env, detached: true, stdio: ['ignore', fd, fd] });
    } catch (err) {
      // e.g. a NUL byte in an argument or env value: the container cannot start, as containerd would refuse it
      const message = `failed to create containerd task: ${(err as Error).message}`;
      return void setImmediate(() =>
        this.exited(rt, { exitCode: 128, reason: 'StartError', message, startedAt: '1970-01-01T00:00:00Z', finishedAt: nowSeconds() }),
      );
    } finally {
      closeSync(fd);
    }
    rt.proc = child;
    if (child.pid) rt.containerID = containerId(child);
    let failedToStart = false;
    child.on('error', (err) => {
      failedToStart = true;
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: exec: "${cmd}": ${err.message}`;
      this.exited(rt, { exitCode: 128, reason: 'StartError', message, startedAt: '1970-01-01T00:00:00Z', finishedAt: nowSeconds() });
    });
    child.on('spawn', () => {
      if (child.pid) writeFileSync(join(rt.dir, 'pid'), String(child.pid));
      this.writeStatus(this.current(rt), (s) => {
        s.phase = 'Running';
        for (const t of ['Ready', 'ContainersReady']) s.conditions = setCondition(s.conditions, { type: t, status: 'True' });
        s.containerStatuses = this.statuses(this.current(rt)!, rt, { running: { startedAt } }, true);
      });
    });
    child.on('exit', (code, signal) => {
      if (failedToStart) return;
      const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      this.exited(rt, { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: nowSeconds(), containerID: containerId(child) });
    });
  }

  private exited(rt: PodRuntime, terminated: Terminated): void {
    clearTimeout(rt.killTimer);
    rt.proc = undefined;
    rmSync(join(rt.dir, 'pid'), { force: true });
    const pod = this.current(rt);
    if (!pod || this.stopped || rt.evicted) return;
    if (rt.stopping || pod.metadata.deletionTimestamp) return this.finishDeletion(pod, rt);
    const policy = pod.spec.restartPolicy ?? 'Always';
    if (policy === 'Always' || (policy === 'OnFailure' && terminated.exitCode !== 0)) {
      rt.restartCount++;
      rt.lastTerminated = terminated;
      const delay = Math.min(this.restartDelayMs * 2 ** Math.min(rt.restartCount - 1, 10), 5000);
      const c = pod.spec.containers[0]!.name;
      const message = `back-off ${Math.round(delay / 1000) || 1}s restarting failed container=${c} pod=${rt.name}_${rt.namespace}(${rt.uid})`;
      this.writeStatus(pod, (s) => {
        for (const t of ['Ready', 'ContainersReady'])
          s.conditions = setCondition(s.conditions, {
            type: t,
            status: 'False',
            reason: 'ContainersNotReady',
            message: `containers with unready status: [${c}]`,
          });
        s.containerStatuses = this.statuses(pod, rt, { waiting: { reason: 'CrashLoopBackOff', message } });
      });
      rt.restartTimer = setTimeout(() => this.startContainer(rt), delay);
      return;
    }
    rt.done = true;
    const phase = terminated.exitCode === 0 ? 'Succeeded' : 'Failed';
    const reason = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
    this.writeStatus(pod, (s) => {
      s.phase = phase;
      s.conditions = setCondition(s.conditions, { type: 'PodReadyToStartContainers', status: 'False' });
      for (const t of ['Ready', 'ContainersReady']) s.conditions = setCondition(s.conditions, { type: t, status: 'False', reason });
      s.containerStatuses = this.statuses(pod, rt, { terminated });
    });
  }

  /** The container statuses; containers after the first are not run by the fake and mirror the first's state. */
  private statuses(pod: Pod, rt: PodRuntime | undefined, state: ContainerState, ready = false): ContainerStatus[] {
    return pod.spec.containers.map((c) => ({
      name: c.name,
      state,
      lastState: rt?.lastTerminated ? { terminated: rt.lastTerminated } : {},
      ready,
      restartCount: rt?.restartCount ?? 0,
      image: c.image ?? '',
      imageID: `fake-kube://${c.image ?? ''}`,
      ...(rt?.containerID ? { containerID: rt.containerID } : {}),
      started: state.running !== undefined,
    }));
  }

  private finishDeletion(pod: Pod, rt: PodRuntime | undefined): void {
    if (rt) this.forget(rt, 'SIGKILL');
    const cur = this.store.get('pods', pod.metadata.namespace, pod.metadata.name!);
    if (cur && cur.metadata.uid === pod.metadata.uid) this.store.remove('pods', pod.metadata.namespace, pod.metadata.name!);
  }

  private forget(rt: PodRuntime, signal: NodeJS.Signals): void {
    clearTimeout(rt.restartTimer);
    clearTimeout(rt.killTimer);
    rt.done = true;
    killGroup(rt.proc, signal);
    this.ips.release(rt.ip);
    this.runtimes.delete(rt.uid);
  }

  private current(rt: PodRuntime): Pod | undefined {
    const pod = this.store.get('pods', rt.namespace, rt.name) as Pod | undefined;
    return pod && pod.metadata.uid === rt.uid ? pod : undefined;
  }

  private writeStatus(pod: Pod | undefined, mutate: (s: PodStatus) => void): void {
    if (!pod || this.stopped) return;
    const cur = this.store.get('pods', pod.metadata.namespace, pod.metadata.name!) as Pod | undefined;
    if (!cur || cur.metadata.uid !== pod.metadata.uid) return;
    const status: PodStatus = structuredClone(cur.status ?? {});
    mutate(status);
    this.store.write('pods', { ...cur, status });
  }
}

const containerId = (p: ChildProcess) => `fake-kube://${p.pid ?? 0}`;

function killGroup(proc: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (!proc?.pid) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    /* already gone */
  }
}
