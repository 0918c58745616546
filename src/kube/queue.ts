// A keyed, de-duplicating, rate-limited work queue with client-go's semantics:
//  - a key added several times before a worker takes it is processed once;
//  - a key is never processed by two workers at once: re-added while in flight, it is queued
//    again when the worker calls done();
//  - failed keys are retried with per-key exponential backoff (addRateLimited) until forget().

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Overall retry rate (token bucket, as client-go's default: 10/s, burst 100). */
  qps?: number;
  burst?: number;
  /** Injectable clock (ms). */
  now?: () => number;
}

export class WorkQueue {
  private queue: string[] = [];
  private dirty = new Set<string>();
  private processing = new Set<string>();
  private failures = new Map<string, number>();
  private delayed = new Map<string, NodeJS.Timeout>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 60000;
    this.qps = opts.qps ?? 10;
    this.burst = opts.burst ?? 100;
    this.now = opts.now ?? Date.now;
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Delay the overall bucket imposes on one more retry (reserves a token). */
  private bucketDelay(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(key);
      this.processing.add(key);
      w(key);
    } else this.queue.push(key);
  }

  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const prev = this.delayed.get(key);
    if (prev) clearTimeout(prev);
    const t = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    t.unref?.();
    this.delayed.set(key, t);
  }

  /**
   * Requeue after the key's backoff (baseDelay * 2^failures, capped at maxDelay) or the overall
   * token bucket's delay, whichever is longer.
   */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.max(Math.min(this.maxDelayMs, this.baseDelayMs * Math.pow(2, n)), this.bucketDelay());
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  len(): number {
    return this.queue.length;
  }

  /** True when nothing is queued, delayed or in flight. */
  idle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0 && this.delayed.size === 0;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    this.queue = [];
    this.dirty.clear();
  }
}

/**
 * Runs `handler` for keys from the queue until it is shut down. A handler that throws gets
 * its key retried with backoff; one that returns normally has its failures forgotten.
 */
export async function runWorker(
  queue: WorkQueue,
  handler: (key: string) => Promise<void>,
  onError?: (key: string, err: unknown, retryInMs: number) => void,
): Promise<void> {
  while (true) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      await handler(key);
      queue.forget(key);
    } catch (err) {
      const delay = queue.addRateLimited(key);
      onError?.(key, err, delay);
    } finally {
      queue.done(key);
    }
  }
}
