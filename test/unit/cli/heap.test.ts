// The V8 heap setting of long-running commands (src/cli/heap.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leanHeapFlags } from '../../../src/cli/heap.ts';

test('standalone keeps the V8 heap close to its live data unless the node command line chose', () => {
  assert.deepEqual(leanHeapFlags([]), ['--optimize-for-size']);
  assert.deepEqual(leanHeapFlags(['--import', 'tsx']), ['--optimize-for-size']);
  assert.deepEqual(leanHeapFlags(['--no-optimize-for-size']), []);
  assert.deepEqual(leanHeapFlags(['--optimize_for_size']), []);
});
