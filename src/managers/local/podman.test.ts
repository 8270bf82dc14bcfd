import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { podmanCommand, podmanProblem } from './podman.js';

describe('podmanCommand', () => {
  it('builds the argv the infrastructure notes require, with values quoted for bash', () => {
    const line = podmanCommand({
      container: 'skyshift-default_a_u1-0',
      image: 'localhost/bb:1',
      hostDir: '/tmp/dir with space',
      env: { POD_RANK: '0', TRICKY: `it's "$HOME" ; rm -rf /` },
      commandFile: 'command.sh',
    });
    // Let bash parse the line exactly as the wrapper would, but print the argv instead of running podman.
    const argv = execFileSync('/bin/bash', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' }).split('\0').slice(0, -1);
    assert.deepEqual(argv.slice(0, 2), ['podman', 'run']);
    for (const flag of ['--rm', '--network=host', '-w']) assert.ok(argv.includes(flag), flag);
    assert.equal(argv[argv.indexOf('--runtime') + 1], 'runc');
    assert.deepEqual(argv.filter((_, i) => argv[i - 1] === '--ulimit'), ['nofile=1024:1024', 'nproc=1024:1024']);
    assert.equal(argv[argv.indexOf('-v') + 1], '/tmp/dir with space:/workdir');
    assert.ok(argv.includes(`TRICKY=it's "$HOME" ; rm -rf /`));
    assert.ok(argv.includes('POD_RANK=0'));
    const img = argv.indexOf('localhost/bb:1');
    assert.deepEqual(argv.slice(img + 1, img + 3), ['sh', '-c']);
    assert.match(argv[img + 3] ?? '', /bash \/workdir\/command\.sh.*sh \/workdir\/command\.sh/);
  });

  it('names the cluster and the packages when podman is missing', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      assert.equal(await podmanProblem('edge'), "cluster 'edge': runtime podman is not installed on this host (apt-get install podman runc)");
    } finally {
      process.env.PATH = saved;
    }
  });
});
