import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controllerRegistry, leaderGauge } from './metrics.js';
import { WorkQueue } from './workqueue.js';

test('controller metrics: work-queue depth by queue (gone after shutdown) and leader status', async () => {
  const q = new WorkQueue<string>({ name: 'skylet-test' });
  q.add('a');
  q.add('b');
  q.addAfter('c', 60_000);
  leaderGauge.set({ lease: 'test-lease' }, 1);
  let text = await controllerRegistry.metrics();
  assert.match(text, /skyshift_controller_workqueue_depth\{queue="skylet-test"\} 3\n/);
  assert.match(text, /skyshift_controller_leader\{lease="test-lease"\} 1\n/);
  q.shutdown();
  text = await controllerRegistry.metrics();
  assert.doesNotMatch(text, /queue="skylet-test"/);
});
