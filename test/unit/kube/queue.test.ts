import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, runWorker } from '../../../src/kube/queue.ts';
import { Backoff } from '../../../src/kube/backoff.ts';

test('keys added several times before processing are processed once, in order', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
});

test('a key re-added while in flight is processed again after done, never concurrently', async () => {
  const q = new WorkQueue();
  q.add('k');
  const k = await q.get();
  assert.equal(k, 'k');
  q.add('k');
  q.add('k');
  assert.equal(q.len(), 0, 'not queued while processing');
  q.done('k');
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'k');
  q.done('k');
  assert.ok(q.idle());
});

test('a waiting get() receives the next added key; shutDown releases waiters with undefined', async () => {
  const q = new WorkQueue();
  const p = q.get();
  q.add('x');
  assert.equal(await p, 'x');
  const p2 = q.get();
  q.shutDown();
  assert.equal(await p2, undefined);
  assert.equal(await q.get(), undefined);
});

test('addRateLimited backs off exponentially per key and forget resets it', () => {
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
  assert.deepEqual([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')], [10, 20, 40, 50]);
  assert.equal(q.addRateLimited('b'), 10);
  assert.equal(q.numRequeues('a'), 4);
  q.forget('a');
  assert.equal(q.addRateLimited('a'), 10);
  q.shutDown();
});

test('runWorker retries a failing key until it succeeds, then forgets its failures', async () => {
  const q = new WorkQueue({ baseDelayMs: 1 });
  let calls = 0;
  const errors: string[] = [];
  const worker = runWorker(
    q,
    async (key) => {
      calls++;
      if (calls < 3) throw new Error(`fail ${key} ${calls}`);
    },
    (_k, err) => errors.push((err as Error).message),
  );
  q.add('svc');
  const end = Date.now() + 2000;
  while (calls < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.equal(calls, 3);
  assert.deepEqual(errors, ['fail svc 1', 'fail svc 2']);
  assert.equal(q.numRequeues('svc'), 0);
  q.shutDown();
  await worker;
});

test('Backoff grows geometrically up to the cap with bounded jitter', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000]);
  b.reset();
  assert.equal(b.next(), 100);
  const lo = new Backoff({ initialMs: 100, jitter: 0.5, random: () => 0 });
  const hi = new Backoff({ initialMs: 100, jitter: 0.5, random: () => 0.999 });
  assert.equal(lo.next(), 50);
  assert.ok(hi.next() <= 100);
});

test('the overall token bucket limits retries across keys (burst, then qps)', () => {
  let t = 0;
  const q = new WorkQueue({ baseDelayMs: 1, qps: 10, burst: 3, now: () => t });
  assert.deepEqual([q.addRateLimited('a'), q.addRateLimited('b'), q.addRateLimited('c')], [1, 1, 1]);
  assert.equal(q.addRateLimited('d'), 100, 'fourth retry waits for a token (1/10 s)');
  assert.equal(q.addRateLimited('e'), 200);
  t = 1000; // refilled (capped at burst)
  assert.equal(q.addRateLimited('f'), 1);
  q.shutDown();
});
