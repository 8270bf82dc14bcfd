import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CapacityIndex } from './capacity.js';
import { Reservations } from './reservations.js';

describe('CapacityIndex', () => {
  it("charges reservations beyond a node's free room to the other nodes: the cluster total never shows promised room", () => {
    // The manager filled n1 with replicas the scheduler had put elsewhere; 4 cpus are still promised on n1.
    const ledger = new Reservations();
    ledger.reserve('x', 'c', 'n1', 0, { cpus: 4 });
    const s = new CapacityIndex().summary(
      { name: 'c', phase: 'READY', labels: {}, allocatable: { n1: { cpus: 0 }, n2: { cpus: 8 }, n3: { cpus: 2 } } },
      ledger,
    );
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.free['cpus']]),
      [
        ['n1', 0],
        ['n2', 4],
        ['n3', 2],
      ],
    );
    assert.equal(s.total['cpus'], 6);
    assert.equal(s.largest['cpus'], 4);
  });

  it('clamps at 0 when the whole cluster is promised', () => {
    const ledger = new Reservations();
    ledger.reserve('x', 'c', 'n1', 0, { cpus: 12 });
    const s = new CapacityIndex().summary({ name: 'c', phase: 'READY', labels: {}, allocatable: { n1: { cpus: 2 }, n2: { cpus: 8 } } }, ledger);
    assert.equal(s.total['cpus'] ?? 0, 0);
  });
});
