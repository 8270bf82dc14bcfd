import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sha256Hex } from './sha256.js';

test('sha256Hex equals node:crypto for empty, block-edge, long and non-ASCII input', () => {
  const inputs = ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'a'.repeat(1000), 'kind-My Cluster ü 日本 🚀'];
  for (const input of inputs) assert.equal(sha256Hex(input), createHash('sha256').update(input).digest('hex'), `input of length ${input.length}`);
});
