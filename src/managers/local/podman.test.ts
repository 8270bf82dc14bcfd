import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { containerName, podmanCommand, podmanProblem } from './podman.js';

describe('podmanCommand', () => {
  it('builds the argv the infrastructure notes require, with values quoted for bash', () => {
    const line = podmanCommand({
      container: 'skyshift-u1-0',
      uid: 'u1-full-uid',
      image: 'localhost/bb:1',
      hostDir: '/tmp/dir with space',
      env: { POD_RANK: '0', TRICKY: `it's "$HOME" ; rm -rf /` },
      commandFile: 'command.sh',
      storage: { root: '/tmp/st root', runroot: '/tmp/run' },
    });
    // Let bash parse the line exactly as the wrapper would, but print the argv instead of running podman.
    const argv = execFileSync('/bin/bash', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' })
      .split('\0')
      .slice(0, -1);
    // Storage flags are global: they must come before the subcommand.
    assert.deepEqual(argv.slice(0, 6), ['podman', '--root', '/tmp/st root', '--runroot', '/tmp/run', 'run']);
    assert.equal(argv[argv.indexOf('--name') + 1], 'skyshift-u1-0');
    assert.equal(argv[argv.indexOf('--label') + 1], 'skyshift.job-uid=u1-full-uid');
    for (const flag of ['--rm', '--network=host', '-w']) assert.ok(argv.includes(flag), flag);
    assert.equal(argv[argv.indexOf('--runtime') + 1], 'runc');
    assert.deepEqual(
      argv.filter((_, i) => argv[i - 1] === '--ulimit'),
      ['nofile=1024:1024', 'nproc=1024:1024'],
    );
    assert.equal(argv[argv.indexOf('-v') + 1], '/tmp/dir with space:/workdir');
    assert.ok(argv.includes(`TRICKY=it's "$HOME" ; rm -rf /`));
    assert.ok(argv.includes('POD_RANK=0'));
    const img = argv.indexOf('localhost/bb:1');
    assert.deepEqual(argv.slice(img + 1, img + 3), ['sh', '-c']);
    // Only the work dir and the command file (read-only) are mounted.
    assert.deepEqual(
      argv.filter((_, i) => argv[i - 1] === '-v'),
      ['/tmp/dir with space:/workdir', 'command.sh:/.skyshift-command.sh:ro'],
    );
    assert.match(argv[img + 3] ?? '', /bash \/\.skyshift-command\.sh.*sh \/\.skyshift-command\.sh/);
  });

  it('omits storage flags when none are configured', () => {
    const line = podmanCommand({ container: 'c', uid: 'u', image: 'i', hostDir: '/d', env: {}, commandFile: 'command.sh' });
    assert.match(line, /^'podman' 'run' /);
  });

  it('names containers skyshift-<uid8>-<rank>, deterministically', () => {
    assert.equal(containerName('3f2a9c1e-7b4d-4e2a-9f00-1234567890ab', 2), 'skyshift-3f2a9c1e-2');
    assert.equal(containerName('3f2a9c1e-7b4d-4e2a-9f00-1234567890ab', 2), containerName('3f2a9c1e-7b4d-4e2a-9f00-1234567890ab', 2));
    assert.equal(containerName('AB-cd_ef/gh.ij', 0), 'skyshift-abcdefgh-0');
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
