/**
 * The `Examples:` lines of every skyctl command's --help, and what each needs
 * to run (test/help-examples.test.ts). An example with no entry in FIXTURES
 * runs as written against the shared fixture (clusters edge, gpu-a, gpu-b;
 * job hello with 3 long-running replicas). Setup snippets are bash using the
 * helpers of PRELUDE.
 */
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { buildProgram, main, type Io } from '../../src/cli/index.js';

export interface HelpExample {
  /** The command path whose help shows it, e.g. 'create cluster' ('' for skyctl itself). */
  command: string;
  line: string;
}

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/** Every Examples: line of every command's --help, in help order, read in-process. */
export async function helpExamples(): Promise<HelpExample[]> {
  const silent = capture();
  const io: Io = { stdout: silent.stream, stderr: silent.stream, env: {}, stdin: process.stdin, signal: new AbortController().signal, home: '/nonexistent' };
  const program = await buildProgram(io);
  const paths: string[][] = [[]];
  const walk = (c: Command, path: string[]) => {
    for (const sub of c.commands) {
      if ((sub as Command & { _hidden?: boolean })._hidden) continue;
      paths.push([...path, sub.name()]);
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(program, []);
  const out: HelpExample[] = [];
  for (const path of paths) {
    const help = capture();
    await main([...path, '--help'], { ...io, stdout: help.stream });
    const text = help.text();
    const at = text.indexOf('\nExamples:\n');
    if (at < 0) continue;
    for (const l of text.slice(at + '\nExamples:\n'.length).split('\n')) {
      if (!l.startsWith('  ')) break;
      out.push({ command: path.join(' '), line: l.trim() });
    }
  }
  return out;
}

export interface Fixture {
  /** bash run first (PRELUDE's helpers available); must exit 0. */
  setup?: string;
  /** bash run after the example, e.g. to restore a fixture cluster. */
  teardown?: string;
  /** The example with placeholders replaced (e.g. a real invite for `eyJ...`). */
  rewrite?: (line: string) => string;
  /** Runs until interrupted: SIGINT once its output matches, then it must exit 0. */
  interruptOn?: RegExp;
  /** Under a scratch copy of HOME: the example changes the current context or logs in. */
  ownHome?: boolean;
  skip?: string;
  /** Known to fail, with why and who must fix it: runs and is reported as TODO, never hidden. */
  todo?: string;
}

/** Shell helpers for setups (SKY is the skyctl shim). */
export const PRELUDE = `
gone() { skyctl delete "$1" "$2" >/dev/null 2>&1 || true; skyctl wait "$1" "$2" --for=delete --timeout=60s >/dev/null 2>&1 || true; }
local_cluster() { gone cluster "$1"; skyctl create cluster "$1" --manager local --cpus 8 --memory 8Gi \${2:+-l gpu "$2"} >/dev/null; }
job_on() { # NAME NAMESPACE GPU-LABEL REPLICAS RUN
  skyctl create namespace "$2" >/dev/null 2>&1 || true
  skyctl -n "$2" delete job "$1" >/dev/null 2>&1 || true; skyctl -n "$2" wait job "$1" --for=delete --timeout=60s >/dev/null 2>&1 || true
  printf 'kind: Job\\nmetadata: {name: %s, namespace: %s}\\nspec:\\n  run: %s\\n  replicas: %s\\n  resources: {cpus: 1, memory: 64Mi}\\n  placement: {filters: [{name: here, matchLabels: {gpu: "%s"}}]}\\n' "$1" "$2" "$5" "$4" "$3" | skyctl apply -f - >/dev/null
}
running() { # until every replica of job $1 (namespace $2) runs
  local ns="\${2:-default}" i
  skyctl -n "$ns" wait job "$1" --for=phase=ACTIVE --timeout=60s >/dev/null
  for i in $(seq 45); do
    skyctl -n "$ns" get job "$1" -o json | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const j = JSON.parse(s); const n = Object.values(j.status.replicaStatus ?? {}).reduce((a, c) => a + (c.RUNNING ?? 0), 0);
      process.exit(n === j.spec.replicas ? 0 : 1); })' && return 0
    sleep 1
  done
  return 1
}
hello_running() { job_on hello default a 3 "'sleep 600'"; running hello; }
invite() { skyctl invite --role reader-role | tail -1; }
ensure_reader() { skyctl get user reader1 >/dev/null 2>&1 || skyctl register reader1 --invite "$(invite)" --password 'correct horse' >/dev/null; }
`;

const interrupt = /Forwarding from/;
const sh = (s: string) => ({ setup: s });

/** What each example needs, keyed by its text; anything else runs as written. */
export const FIXTURES: Record<string, Fixture> = {
  'skyctl create cluster laptop --manager local': sh('gone cluster laptop'),
  "skyctl create job hello --run 'echo hello'": sh('gone job hello'),
  'skyctl logs hello -f': sh('job_on hello default a 2 "\'echo hi; sleep 1\'"'),
  'skyctl get job/hello cluster/edge': sh('hello_running'),
  'skyctl get jobs -l team=ml -w': { setup: 'gone job mlw; skyctl create job mlw --run true -l team ml >/dev/null', interruptOn: /mlw/ },
  'skyctl describe job hello': sh('hello_running'),
  'skyctl create cluster laptop --manager local --cpus 4 --memory 8Gi': sh('gone cluster laptop'),
  "skyctl create job hello --run 'echo hi' --replicas 2": sh('gone job hello'),
  'skyctl create namespace ml': sh('gone namespace ml'),
  'skyctl create filterpolicy no-cloud -l team ml -e aws-east': sh('gone filterpolicy no-cloud'),
  'skyctl create filterpolicy no-cloud -e aws-east': sh('gone filterpolicy no-cloud'),
  'skyctl create filterpolicy ml-on-prem -l team ml -i gpu-a -i gpu-b': sh('gone filterpolicy ml-on-prem'),
  'skyctl create service web -s app web -p 80 8080': sh('gone service web'),
  'skyctl create service api --type LoadBalancer -s app api -p 443 8443 -p 80 8080 -c gpu-a': sh('gone service api'),
  'skyctl create link east-west -s gpu-a -t gpu-b': sh('gone link east-west'),
  'skyctl create cluster laptop --manager local --cpus 4 --memory 8Gi -l site home': sh('gone cluster laptop'),
  'skyctl create cluster gpu-a --manager kubernetes --config ~/.kube/config --context gpu-a': {
    setup: 'gone cluster gpu-a',
    teardown: 'local_cluster gpu-a a',
  },
  'skyctl create cluster edge --manager k8 edge-context': { setup: 'gone cluster edge', teardown: 'local_cluster edge' },
  'skyctl create cluster hpc --manager slurm --interface cli --host login1 --user me --ssh-key ~/.ssh/id_ed25519': sh('gone cluster hpc'),
  'skyctl create cluster hpc-rest --manager slurm --interface rest --url http://127.0.0.1:6820 --user me --token-file ~/.skyconf/slurm.jwt':
    sh('gone cluster hpc-rest'),
  'skyctl create cluster hpc-test --manager slurm --slurm-conf /etc/slurm-test/slurm.conf --partition debug': sh('gone cluster hpc-test'),
  'skyctl create cluster sim1 --manager sim --nodes 100 --cpus 8 --memory 32Gi': sh('gone cluster sim1'),
  'skyctl create cluster lab-gpu --agent': sh('gone cluster lab-gpu'),
  'skyctl create cluster hpc --agent --manager slurm --token-out hpc.token': sh('gone cluster hpc'),
  "skyctl create job train --image pytorch/pytorch --run 'python train.py' -a A100:2 --replicas 4 -l team ml": sh('gone job train'),
  "skyctl create job web --run 'python -m http.server 8080' --port 8080 --restart-policy Always": sh('gone job web'),
  "skyctl create role dev-role --namespace team-a --resource jobs --action '*' --user reader1": sh('gone role dev-role'),
  "skyctl create role viewer --namespace '*' --resource '*' --action get --action list --action watch": sh('gone role viewer'),
  "skyctl create role ops -n '*' -r jobs -r clusters -a get -a list -u alice": sh('gone role ops'),
  'skyctl apply -f job.yaml': sh('cp examples/job.yaml job.yaml'),
  'skyctl apply -f manifests/': sh('mkdir -p manifests && cp examples/namespace.yaml manifests/'),
  'cat cluster.yaml | skyctl apply -f -': sh('cp examples/cluster.yaml cluster.yaml'),
  'skyctl delete job hello': sh('hello_running'),
  'skyctl delete job/hello cluster/gpu-a': { setup: 'hello_running', teardown: 'local_cluster gpu-a a' },
  'skyctl delete -f job.yaml --dry-run=server': sh('cp examples/job.yaml job.yaml && skyctl apply -f job.yaml >/dev/null'),
  'skyctl logs hello': sh('hello_running'),
  'skyctl logs job/hello': sh('hello_running'),
  'skyctl logs train -f --tail 20 -n ml': sh('job_on train ml a 2 "\'echo t; sleep 1\'"'),
  'skyctl logs train --cluster gpu-a --task train-1': sh(
    'job_on train default a 2 "\'echo t\'" && skyctl wait job train --for=phase=COMPLETED --timeout=90s >/dev/null',
  ),
  'skyctl exec hello -- hostname': sh('hello_running'),
  "skyctl exec hello --task hello-2 -- sh -c 'echo $SKYSHIFT_REPLICA'": sh('hello_running'),
  'skyctl exec train -n ml -it -- bash': { skip: 'an interactive terminal (-it)' },
  'echo data | skyctl exec hello -i -- wc -c': sh('hello_running'),
  'skyctl port-forward hello 8080:80': { setup: 'hello_running', rewrite: (l) => l.replace('8080:80', ':80'), interruptOn: interrupt },
  'skyctl port-forward hello 8080:80 --task hello-0': { setup: 'hello_running', rewrite: (l) => l.replace('8080:80', ':80'), interruptOn: interrupt },
  'skyctl port-forward web 8443:443 9090 -n prod': {
    setup: 'job_on web prod a 1 "\'sleep 600\'" && running web prod',
    rewrite: (l) => l.replace('8443:443 9090', ':443 :9090'),
    interruptOn: interrupt,
  },
  'skyctl port-forward web :80 --address 0.0.0.0': {
    setup: 'job_on web default a 1 "\'sleep 600\'" && running web',
    rewrite: (l) => l.replace('0.0.0.0', '127.0.0.1'),
    interruptOn: interrupt,
  },
  'skyctl config set-context prod --server https://skyshift.example.com:50051 --namespace ml': { ownHome: true },
  'skyctl config use-context prod': { ownHome: true, setup: 'skyctl config set-context prod --server https://sky.example.com:50051 >/dev/null' },
  'skyctl config rename-context admin@127.0.0.1:50051 local': {
    ownHome: true,
    setup: 'skyctl config set-context admin@127.0.0.1:50051 --server http://127.0.0.1:50051 >/dev/null',
  },
  'skyctl config delete-context old': { ownHome: true, setup: 'skyctl config set-context old --server http://127.0.0.1:1 >/dev/null' },
  'skyctl config set-context local --server http://127.0.0.1:50051': { ownHome: true },
  'skyctl config set-context prod --server https://sky.example.com:50051 --namespace ml --certificate-authority ca.pem': {
    ownHome: true,
    setup: 'cp "$TEST_CA" ca.pem',
  },
  'skyctl config set-context lab --server https://lab.example.org:50051 --insecure-skip-tls-verify': { ownHome: true },
  'curl -s -H "Authorization: Bearer $(skyctl token --context prod)" https://sky.example.com:50051/default/jobs': { skip: 'a server at sky.example.com' },
  'skyctl wait job hello --for=phase=COMPLETED --timeout=60s': sh('job_on hello default a 1 "\'echo done\'"'),
  'skyctl wait job/hello --for=condition=Scheduled': sh('hello_running'),
  'skyctl wait job hello --for=delete --timeout=2m': sh('hello_running; (sleep 2; skyctl delete job hello >/dev/null) &'),
  'skyctl edit job hello': sh('hello_running'),
  'EDITOR=nano skyctl edit cluster/laptop': sh('skyctl get cluster laptop >/dev/null 2>&1 || skyctl create cluster laptop --manager local >/dev/null'),
  'source <(skyctl completion zsh)           # add to ~/.zshrc (after compinit)': { skip: 'zsh (the example is for a zsh session; bash cannot source it)' },
  'skyctl completion fish | source           # add to ~/.config/fish/config.fish': { skip: 'fish (the example is for a fish session)' },
  'skyctl login reader1                      # prompts for the password': { ownHome: true, setup: 'ensure_reader' },
  'echo "$PW" | skyctl login reader1 --password-stdin': { ownHome: true, setup: 'ensure_reader' },
  'skyctl --server https://sky.example.com:50051 login alice --certificate-authority ca.pem': { skip: 'a server at sky.example.com' },
  'skyctl --server https://lab:50051 login admin --context-name lab': { skip: 'a server named lab' },
  "skyctl register reader1 --invite eyJ... --password 'correct horse'": {
    ownHome: true,
    setup: 'skyctl delete user reader1 >/dev/null 2>&1 || true; INVITE=$(invite)',
    rewrite: (l) => l.replace('eyJ...', '"$INVITE"'),
  },
  "skyctl login reader1 --password 'correct horse'": { ownHome: true, setup: 'ensure_reader' },
  'skyctl revoke-invite eyJ...': {
    setup: 'INVITE=$(invite)',
    rewrite: (l) => l.replace('eyJ...', '"$INVITE"'),
  },
};
