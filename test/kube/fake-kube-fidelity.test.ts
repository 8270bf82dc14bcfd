/**
 * Fidelity of the FAKE Kubernetes API server, proven with the real kubectl (/usr/bin/kubectl, 1.32): each command's
 * output against the fake is asserted to be what kubectl prints against a real cluster (exact where it is stable, shape
 * where it carries ages or generated names). Exec and port-forward are in fake-kube-streams.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFakeKubeServer, writeKubeconfig, type FakeKubeServer } from '../infra/fake-kube/index.js';
import { waitFor } from '../infra/ports.js';

const KUBECTL = '/usr/bin/kubectl';

/**
 * Why these tests cannot run here, or false. They are written against kubectl 1.32 (OpenAPI v3 field validation,
 * its messages); Debian's kubernetes-client is 1.20 and needs /openapi/v2 in protobuf, which the fake does not serve.
 */
function kubectlUnusable(): string | false {
  if (!existsSync(KUBECTL)) return 'no kubectl at /usr/bin/kubectl (scripts/install-test-deps.sh installs one)';
  try {
    const v = JSON.parse(execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 10_000 })).clientVersion;
    const minor = parseInt(v.minor, 10);
    return minor >= 30 ? false : `kubectl ${v.gitVersion} is older than 1.30, which these fidelity tests are written for`;
  } catch (err) {
    return `kubectl version failed: ${(err as Error).message}`;
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Columns of a kubectl table, split at runs of 2+ spaces... kubectl pads with at least 3, values have no double spaces. */
const cells = (line: string) => line.trim().split(/\s{2,}/);

describe('fake Kubernetes API server: fidelity with the real kubectl', { skip: kubectlUnusable() }, () => {
  let fake: FakeKubeServer;
  let dir = '';
  let kubeconfig = '';

  /** Runs kubectl asynchronously (the fake runs in this process: a sync call would block it). */
  const kubectl = (args: string[], input?: string, timeoutMs = 30_000): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        KUBECTL,
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args],
        { timeout: timeoutMs },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const podYaml = (name: string, script: string, extra = '') =>
    [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      `  name: ${name}`,
      '  labels: {app: fidelity}',
      'spec:',
      '  restartPolicy: Never',
      '  containers:',
      '  - name: main',
      '    image: busybox:1.36',
      `    command: ["sh", "-c", ${JSON.stringify(script)}]`,
      extra,
    ].join('\n');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fake-kube-kubectl-'));
    fake = createFakeKubeServer({
      dir,
      nodes: [
        { name: 'node-a', cpu: '4', memory: '8Gi' },
        {
          name: 'node-gpu',
          cpu: '16',
          memory: '64Gi',
          gpus: { count: 4, product: 'NVIDIA-H100-80GB-HBM3' },
          labels: { 'node-role.kubernetes.io/worker': '' },
        },
      ],
      podIpOctet: 95,
    });
    const url = await fake.listen();
    kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, [{ name: 'fake', server: url, namespace: 'default' }]);
    assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl get nodes: the table (NAME STATUS ROLES AGE VERSION) and -o json with allocatable, labels, conditions', async () => {
    const lines = (await ok(['get', 'nodes'])).trimEnd().split('\n');
    assert.deepEqual(cells(lines[0]!), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    assert.equal(lines.length, 3);
    const [a, gpu] = [cells(lines[1]!), cells(lines[2]!)];
    assert.deepEqual([a[0], a[1], a[2], a[4]], ['node-a', 'Ready', '<none>', 'v1.32.0']);
    assert.deepEqual([gpu[0], gpu[1], gpu[2], gpu[4]], ['node-gpu', 'Ready', 'worker', 'v1.32.0']);
    assert.match(a[3]!, /^\d+s$/);
    const list = JSON.parse(await ok(['get', 'nodes', '-o', 'json']));
    assert.equal(list.kind, 'List');
    assert.equal(list.apiVersion, 'v1');
    const node = list.items.find((n: any) => n.metadata.name === 'node-gpu');
    assert.equal(node.kind, 'Node');
    assert.deepEqual(node.status.allocatable, { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi', 'nvidia.com/gpu': '4' });
    assert.equal(node.metadata.labels['nvidia.com/gpu.product'], 'NVIDIA-H100-80GB-HBM3');
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'node-gpu');
    const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason], ['True', 'KubeletReady']);
    assert.equal(await ok(['get', 'node', 'node-a', '-o', 'jsonpath={.status.allocatable.cpu}']), '4');
  });

  it('kubectl apply -f pod.yaml (created, then unchanged, then configured), get pods table and -o json, wait --for=condition=Ready', async () => {
    const file = join(dir, 'pod.yaml');
    writeFileSync(file, podYaml('web', 'echo started; while true; do sleep 0.2; done'));
    assert.equal(await ok(['apply', '-f', file]), 'pod/web created\n');
    assert.equal(await ok(['apply', '-f', file]), 'pod/web unchanged\n');
    assert.equal(await ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']), 'pod/web condition met\n');
    const lines = (await ok(['get', 'pods'])).trimEnd().split('\n');
    assert.deepEqual(cells(lines[0]!), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const row = cells(lines.find((l) => l.startsWith('web '))!);
    assert.deepEqual(row.slice(0, 4), ['web', '1/1', 'Running', '0']);
    assert.match(row[4]!, /^\d+s$/);
    const wide = cells((await ok(['get', 'pod', 'web', '-o', 'wide'])).trimEnd().split('\n')[1]!);
    assert.match(wide[5]!, /^127\.95\.\d+\.\d+$/);
    assert.ok(['node-a', 'node-gpu'].includes(wide[6]!));
    const p = JSON.parse(await ok(['get', 'pod', 'web', '-o', 'json']));
    assert.equal(p.kind, 'Pod');
    assert.equal(p.status.phase, 'Running');
    assert.equal(p.status.containerStatuses[0].ready, true);
    assert.ok(p.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'].includes('"name":"web"'));
    writeFileSync(file, podYaml('web', 'echo started; while true; do sleep 0.2; done').replace('app: fidelity', 'app: fidelity, tier: front'));
    assert.equal(await ok(['apply', '-f', file]), 'pod/web configured\n');
    assert.equal(await ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.labels.tier}']), 'front');
  });

  it('kubectl apply with a misspelt field: server-side strict validation refuses it with the real message', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, podYaml('typo', 'true').replace('image: busybox', 'imagee: busybox'));
    const r = await kubectl(['apply', '-f', file]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `Error from server (BadRequest): error when creating "${file}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagee"\n`,
    );
    assert.equal((await kubectl(['get', 'pod', 'typo'])).code, 1, 'nothing was created');
  });

  it('kubectl logs, logs --tail, and logs -f that ends when the pod ends', async () => {
    await ok(['apply', '-f', '-'], podYaml('counter', 'for i in 1 2 3 4; do echo line $i; sleep 0.3; done'));
    await ok(['wait', '--for=condition=Ready', 'pod/counter', '--timeout=20s']);
    const t0 = Date.now();
    const followed = await kubectl(['logs', '-f', 'counter'], undefined, 20_000);
    assert.equal(followed.code, 0);
    assert.equal(followed.stdout, 'line 1\nline 2\nline 3\nline 4\n');
    assert.ok(Date.now() - t0 >= 400, 'logs -f followed the running pod');
    assert.equal(await ok(['logs', 'counter', '--tail=2']), 'line 3\nline 4\n');
    await waitFor('counter Succeeded', async () => (await ok(['get', 'pod', 'counter', '-o', 'jsonpath={.status.phase}'])) === 'Succeeded', 10_000);
    const row = cells((await ok(['get', 'pod', 'counter'])).trimEnd().split('\n')[1]!);
    assert.deepEqual(row.slice(0, 4), ['counter', '0/1', 'Completed', '0']);
  });

  it('a failing pod: STATUS Error and the exit code in -o jsonpath', async () => {
    await ok(['apply', '-f', '-'], podYaml('failing', 'echo oops >&2; exit 3'));
    await waitFor('failing Failed', async () => (await ok(['get', 'pod', 'failing', '-o', 'jsonpath={.status.phase}'])) === 'Failed', 10_000);
    assert.equal(await ok(['get', 'pod', 'failing', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}']), '3');
    assert.deepEqual(cells((await ok(['get', 'pod', 'failing'])).trimEnd().split('\n')[1]!).slice(0, 4), ['failing', '0/1', 'Error', '0']);
    assert.equal(await ok(['logs', 'failing']), 'oops\n');
  });

  it('kubectl get pods -l and --field-selector, -o name', async () => {
    await ok(['apply', '-f', '-'], podYaml('sel-one', 'exit 0').replace('app: fidelity', 'app: sel, num: "1"'));
    await ok(['apply', '-f', '-'], podYaml('sel-two', 'sleep 60').replace('app: fidelity', 'app: sel, num: "2"'));
    await waitFor('sel-one Succeeded', async () => (await ok(['get', 'pod', 'sel-one', '-o', 'jsonpath={.status.phase}'])) === 'Succeeded', 10_000);
    assert.equal(await ok(['get', 'pods', '-l', 'app=sel', '-o', 'name']), 'pod/sel-one\npod/sel-two\n');
    assert.equal(await ok(['get', 'pods', '-l', 'app=sel,num!=1', '-o', 'name']), 'pod/sel-two\n');
    assert.equal(await ok(['get', 'pods', '-l', 'num in (1,3)', '-o', 'name']), 'pod/sel-one\n');
    assert.equal(await ok(['get', 'pods', '-l', 'app=sel', '--field-selector', 'status.phase=Succeeded', '-o', 'name']), 'pod/sel-one\n');
    assert.equal(await ok(['get', 'pods', '--field-selector', 'metadata.name=sel-two', '-o', 'name']), 'pod/sel-two\n');
    const none = await kubectl(['get', 'pods', '-l', 'app=nothing']);
    assert.equal(none.code, 0);
    assert.equal(none.stderr, 'No resources found in default namespace.\n');
    const bad = await kubectl(['get', 'pods', '--field-selector', 'spec.image=x']);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      'Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.image=x": field label not supported: spec.image\n',
    );
  });

  it('kubectl get of a missing pod: Error from server (NotFound), exit code 1', async () => {
    const r = await kubectl(['get', 'pod', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Error from server (NotFound): pods "nope" not found\n');
    const d = await kubectl(['delete', 'pod', 'nope']);
    assert.equal(d.code, 1);
    assert.equal(d.stderr, 'Error from server (NotFound): pods "nope" not found\n');
  });

  it('kubectl delete waits for the graceful termination; --wait=false shows Terminating', async () => {
    const trap = 'trap "echo bye; sleep 0.5; exit 0" TERM; while true; do sleep 0.1; done';
    await ok(['apply', '-f', '-'], podYaml('doomed', trap));
    await ok(['wait', '--for=condition=Ready', 'pod/doomed', '--timeout=20s']);
    const t0 = Date.now();
    assert.equal(await ok(['delete', 'pod', 'doomed']), 'pod "doomed" deleted\n');
    assert.ok(Date.now() - t0 >= 400, 'delete waited for the trap to finish');
    assert.equal((await kubectl(['get', 'pod', 'doomed'])).stderr, 'Error from server (NotFound): pods "doomed" not found\n');
    await ok(['apply', '-f', '-'], podYaml('doomed2', trap));
    await ok(['wait', '--for=condition=Ready', 'pod/doomed2', '--timeout=20s']);
    assert.equal(await ok(['delete', 'pod', 'doomed2', '--wait=false']), 'pod "doomed2" deleted\n');
    assert.equal(cells((await ok(['get', 'pod', 'doomed2'])).trimEnd().split('\n')[1]!)[2], 'Terminating');
    assert.equal(await ok(['wait', '--for=delete', 'pod/doomed2', '--timeout=20s']), 'pod/doomed2 condition met\n');
  });

  it('kubectl get -w prints a table row per change (watch events carrying Tables)', async () => {
    await ok(['apply', '-f', '-'], podYaml('watched', 'trap "exit 0" TERM; while true; do sleep 0.1; done'));
    await ok(['wait', '--for=condition=Ready', 'pod/watched', '--timeout=20s']);
    const watching = kubectl(['get', 'pod', 'watched', '-w'], undefined, 3000);
    await new Promise((r) => setTimeout(r, 800));
    await ok(['delete', 'pod', 'watched', '--wait=false']);
    const out = (await watching).stdout.trimEnd().split('\n');
    assert.deepEqual(cells(out[0]!), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    assert.deepEqual(cells(out[1]!).slice(0, 3), ['watched', '1/1', 'Running']);
    assert.ok(
      out.slice(2).some((l) => cells(l)[0] === 'watched' && cells(l)[2] === 'Terminating'),
      `a Terminating row: ${out.join(' | ')}`,
    );
  });

  it('kubectl cordon/uncordon: spec.unschedulable, Ready,SchedulingDisabled, pods wait Pending until uncordoned', async () => {
    assert.equal(await ok(['cordon', 'node-a']), 'node/node-a cordoned\n');
    assert.equal(await ok(['cordon', 'node-a']), 'node/node-a already cordoned\n');
    assert.equal(await ok(['get', 'node', 'node-a', '-o', 'jsonpath={.spec.unschedulable}']), 'true');
    assert.deepEqual(cells((await ok(['get', 'node', 'node-a'])).trimEnd().split('\n')[1]!).slice(0, 2), ['node-a', 'Ready,SchedulingDisabled']);
    await ok(['apply', '-f', '-'], podYaml('pinned', 'sleep 60', '  nodeSelector: {kubernetes.io/hostname: node-a}'));
    const msg = await waitFor(
      'pinned unschedulable',
      async () => ok(['get', 'pod', 'pinned', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}']),
      10_000,
    );
    assert.equal(
      msg,
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
    assert.deepEqual(cells((await ok(['get', 'pod', 'pinned'])).trimEnd().split('\n')[1]!).slice(0, 3), ['pinned', '0/1', 'Pending']);
    assert.equal(await ok(['uncordon', 'node-a']), 'node/node-a uncordoned\n');
    assert.equal(await ok(['wait', '--for=condition=Ready', 'pod/pinned', '--timeout=20s']), 'pod/pinned condition met\n');
    assert.equal(await ok(['get', 'pod', 'pinned', '-o', 'jsonpath={.spec.nodeName}']), 'node-a');
  });

  it('kubectl apply of a Deployment, get deploy, scale, rollout status', async () => {
    const deploy = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: api}',
      'spec:',
      '  replicas: 2',
      '  selector: {matchLabels: {app: api}}',
      '  template:',
      '    metadata: {labels: {app: api}}',
      '    spec:',
      '      containers: [{name: api, image: "nginx:1.27", command: ["sleep", "600"]}]',
    ].join('\n');
    assert.equal(await ok(['apply', '-f', '-'], deploy), 'deployment.apps/api created\n');
    assert.match(await ok(['rollout', 'status', 'deployment/api', '--timeout=20s']), /deployment "api" successfully rolled out\n$/);
    const lines = (await ok(['get', 'deploy'])).trimEnd().split('\n');
    assert.deepEqual(cells(lines[0]!), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    assert.deepEqual(cells(lines[1]!).slice(0, 4), ['api', '2/2', '2', '2']);
    assert.equal(await ok(['scale', 'deployment/api', '--replicas=3']), 'deployment.apps/api scaled\n');
    await waitFor('3 ready', async () => (await ok(['get', 'deploy', 'api', '-o', 'jsonpath={.status.readyReplicas}'])) === '3', 10_000);
    const names = (await ok(['get', 'pods', '-l', 'app=api', '-o', 'name'])).trim().split('\n');
    assert.equal(names.length, 3);
    for (const n of names) assert.match(n, /^pod\/api-[a-z0-9]{10}-[a-z0-9]{5}$/);
    assert.equal(await ok(['delete', 'deployment', 'api']), 'deployment.apps "api" deleted\n');
    await waitFor('api pods gone', async () => (await ok(['get', 'pods', '-l', 'app=api', '-o', 'name'])) === '', 10_000);
  });

  it('kubectl create namespace|deployment|configmap|secret (typed clients sending protobuf bodies)', async () => {
    assert.equal(await ok(['create', 'namespace', 'scratch']), 'namespace/scratch created\n');
    assert.equal(
      await ok(['create', 'deployment', 'pb', '-n', 'scratch', '--image=nginx:1.27', '--replicas=2', '--port=8080', '--', 'sleep', '600']),
      'deployment.apps/pb created\n',
    );
    assert.equal(await ok(['create', 'configmap', 'cfg', '-n', 'scratch', '--from-literal=a=b']), 'configmap/cfg created\n');
    assert.equal(await ok(['create', 'secret', 'generic', 'sec', '-n', 'scratch', '--from-literal=pw=hunter2']), 'secret/sec created\n');
    assert.equal(await ok(['get', 'configmap', 'cfg', '-n', 'scratch', '-o', 'jsonpath={.data.a}']), 'b');
    assert.equal(Buffer.from(await ok(['get', 'secret', 'sec', '-n', 'scratch', '-o', 'jsonpath={.data.pw}']), 'base64').toString(), 'hunter2');
    await waitFor('2 ready', async () => (await ok(['get', 'deploy', 'pb', '-n', 'scratch', '-o', 'jsonpath={.status.readyReplicas}'])) === '2', 10_000);
    const tpl = JSON.parse(await ok(['get', 'deploy', 'pb', '-n', 'scratch', '-o', 'jsonpath={.spec.template.spec.containers[0]}']));
    assert.deepEqual([tpl.name, tpl.image, tpl.command, tpl.ports[0].containerPort], ['nginx', 'nginx:1.27', ['sleep', '600'], 8080]);
    assert.equal(await ok(['delete', 'namespace', 'scratch']), 'namespace "scratch" deleted\n');
    await waitFor('scratch pods gone', async () => (await ok(['get', 'pods', '-n', 'scratch', '-o', 'name'])) === '', 10_000);
  });

  it('counted what kubectl asked for', () => {
    const counts = Object.fromEntries(fake.counts);
    for (const k of ['list nodes', 'get pods', 'create pods', 'patch pods', 'watch pods', 'log pods', 'delete pods', 'patch nodes', 'patch deployments/scale'])
      assert.ok((counts[k] ?? 0) > 0, `${k} counted: ${JSON.stringify(counts)}`);
  });
});
