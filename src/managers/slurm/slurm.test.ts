import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { expandArray } from './backend.js';
import { testJob } from '../../../test/support/jobs.js';
import { nodeResources, parseGpuGres, parseScontrolNodes } from './nodes.js';
import { quote } from './runner.js';
import { clusterOwner, parseComment, renderScript, resourceRequest, slurmComment, slurmJobName } from './script.js';
import { nodeAvailable, taskState } from './states.js';

describe('slurm pure helpers', () => {
  it('maps Slurm job states', () => {
    assert.equal(taskState('PENDING'), 'PENDING');
    assert.equal(taskState('CONFIGURING'), 'PENDING');
    assert.equal(taskState('COMPLETING'), 'RUNNING');
    assert.equal(taskState('COMPLETED'), 'COMPLETED');
    assert.equal(taskState('PREEMPTED'), 'EVICTED');
    for (const s of ['FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'CANCELLED by 0'])
      assert.equal(taskState(s), 'FAILED', s);
  });

  it('tells available nodes from unavailable ones', () => {
    assert.ok(nodeAvailable('IDLE'));
    assert.ok(nodeAvailable('MIXED'));
    assert.ok(!nodeAvailable('IDLE+DRAIN'));
    assert.ok(!nodeAvailable('DOWN+NOT_RESPONDING'));
    assert.ok(!nodeAvailable('idle*'));
    assert.ok(!nodeAvailable('idle', ['DRAIN']));
  });

  it('parses GRES and computes allocatable per type', () => {
    assert.deepEqual(
      [...parseGpuGres('gpu:a100:2(S:0-1),gpu:t4:1,nic:1')],
      [
        ['a100', 2],
        ['t4', 1],
      ],
    );
    const nodes = parseScontrolNodes(
      'NodeName=n1 CPUAlloc=2 CPUTot=8 RealMemory=1000 AllocMem=300 Gres=gpu:a100:2 GresUsed=gpu:a100:1(IDX:0) State=MIXED\n' +
        'NodeName=n2 CPUAlloc=0 CPUTot=4 RealMemory=500 AllocMem=0 Gres=(null) GresUsed= State=IDLE+DRAIN\n',
    );
    const r = nodeResources(nodes);
    assert.deepEqual(r.capacity, { n1: { cpus: 8, memory: 1000, gpus: 2, A100: 2 } });
    assert.deepEqual(r.allocatable, { n1: { cpus: 6, memory: 700, gpus: 1, A100: 1 } });
    assert.deepEqual(r.unavailable, ['n2 (IDLE+DRAIN)']);
  });

  it('builds resource requests', () => {
    assert.deepEqual(resourceRequest({ cpus: 0.5, memory: 100.2, A100: 1 }, ['a100']), { cpusPerTask: 1, memoryMiB: 101, gres: 'gpu:a100:1' });
    assert.deepEqual(resourceRequest({ cpus: 2, gpus: 2 }, []), { cpusPerTask: 2, gres: 'gpu:2' });
    assert.throws(() => resourceRequest({ A100: 1, H100: 1 }, []));
  });

  it('names and comments carry the identity', () => {
    assert.equal(slurmJobName('ns', 'a b', '0123456789'), 'skyshift-ns-a-b-01234567');
    const owner = clusterOwner('hpc-a', '5f0c-uid');
    assert.equal(owner, 'hpc-a/5f0c-uid');
    assert.deepEqual(parseComment(slurmComment(owner, 'ns', 'job', 'u-1')), { owner, uid: 'u-1', namespace: 'ns', name: 'job' });
    assert.equal(parseComment(slurmComment('hpc-b', 'ns', 'job', 'u-1'))?.owner, 'hpc-b');
    // Jobs written before comments carried an owner parse without one (so no cluster claims them by comment).
    assert.deepEqual(parseComment('skyshift:u-1:ns/job'), { uid: 'u-1', namespace: 'ns', name: 'job' });
    assert.equal(parseComment('some user job'), undefined);
    assert.deepEqual(expandArray('0-3,7%2'), [0, 1, 2, 3, 7]);
  });

  it('quotes hostile strings so a shell reads them back verbatim', () => {
    for (const s of ["it's", '$(touch /tmp/x) `id` "a" \\ ;|&', 'line\nbreak', '']) {
      assert.equal(execFileSync('sh', ['-c', `printf %s ${quote(s)}`]).toString(), s);
    }
    const script = renderScript({
      job: testJob('j', { run: 'echo "$X" \'$(no)\'', envs: { X: "a'b" } }, { namespace: 'd', uid: 'u' }),
      dir: '/tmp/d i r',
      runtime: 'none',
      replicas: 1,
    });
    assert.match(script, /dir='\/tmp\/d i r'/);
    assert.throws(() => renderScript({ job: testJob('j', { run: 'true', envs: { 'A;rm': 'x' } }, { uid: 'u' }), dir: '/d', runtime: 'none', replicas: 1 }));
  });
});
