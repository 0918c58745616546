// Kubernetes Events (core/v1) with MetalLB's reasons, aggregated like client-go's
// EventCorrelator: an event identical to an earlier one (same source, involved object, type,
// reason and message) bumps that Event's `count` and `lastTimestamp` with one PATCH instead of
// creating a new object. The Event's name is derived from that identity, so after a restart the
// first repeat finds the existing object (409 AlreadyExists → GET → PATCH) rather than adding a
// twin. Best effort: a failed write is logged, never propagated (events must not block
// reconciliation).
// Like client-go's broadcaster, events are handed to a sink of their own: emit() queues and
// returns, a few writes run in the background, and a caller's more important writes go first
// (`yieldTo`: while it says so, no event write starts unless the oldest has waited `maxDelayMs`,
// and then one at a time, so a long burst delays events but never starves them). Memory is
// bounded (`maxQueued`);
// what cannot be queued, and what the API server refuses, is counted (`lost`, `onLost`) and
// logged, never dropped silently; flush() waits for everything queued (on shutdown).

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { R, isConflict, isNotFound, kubeTime } from './client.ts';
import type { KubeClient, KubeObject } from './client.ts';

export const EventReason = {
  IPAllocated: 'IPAllocated',
  AllocationFailed: 'AllocationFailed',
  ClearAssignment: 'ClearAssignment',
  NodeAssigned: 'nodeAssigned',
  WithdrawAnnouncement: 'withdrawAnnouncement',
  ConfigInvalid: 'ConfigInvalid',
} as const;

export interface InvolvedObject {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

/** How many distinct events are remembered for aggregation (client-go keeps 4096). */
const CACHE_SIZE = 4096;
/** Event writes in flight at once when nothing has priority; callers need not await emit(). */
const MAX_IN_FLIGHT = 4;
/** How long events may wait behind `yieldTo` before they are written anyway. */
const MAX_DELAY_MS = 30000;
/** Events waiting beyond this are dropped, counted and logged (client-go's broadcaster queues 1000). */
const MAX_QUEUED = 16384;

export type EventLoss = 'queue_full' | 'write_failed';

export interface EventRecorderOptions {
  /** Events waiting to be written at most. Default 16384. */
  maxQueued?: number;
  /** Event writes in flight at most. Default 4. */
  concurrency?: number;
  /**
   * While this returns true (more important writes pending), events wait; one that has waited
   * `maxDelayMs` (default 30000) is written anyway, one at a time. Call kick() when it may have
   * turned false.
   */
  yieldTo?: () => boolean;
  maxDelayMs?: number;
  /** Called for every event that will not be written. */
  onLost?: (reason: EventLoss) => void;
}

interface Queued {
  /** performance.now() when queued. */
  at: number;
  obj: InvolvedObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  done: () => void;
}

/** The aggregation identity of an event (everything but timestamps, count and resourceVersion). */
export function eventKey(component: string, obj: InvolvedObject, type: string, reason: string, message: string): string {
  return JSON.stringify([component, obj.kind, obj.namespace ?? '', obj.name, obj.uid ?? '', type, reason, message]);
}

/** The Event's object name: `<involved name>.<16 hex digits of the identity's hash>`. */
export function eventName(obj: InvolvedObject, key: string): string {
  const base = obj.name.slice(0, 253 - 17);
  return `${base}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

export class EventRecorder {
  private seen = new Map<string, Seen>();
  private inFlight = 0;
  private queue: (Queued | undefined)[] = [];
  private head = 0;
  private timer?: NodeJS.Timeout;
  private idle: (() => void)[] = [];
  /** Requests made (create / patch / get), for tests and benchmarks. */
  readonly stats = { created: 0, aggregated: 0, failed: 0 };
  /** Events not written, by why. */
  readonly lost = { queue_full: 0, write_failed: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly instance: string,
    private readonly logger?: Logger,
    private readonly now: () => Date = () => new Date(),
    private readonly opts: EventRecorderOptions = {},
  ) {}

  private remember(key: string, s: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, s);
    if (this.seen.size > CACHE_SIZE) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private get queued(): number {
    return this.queue.length - this.head;
  }

  /** Events being written or waiting their turn. */
  get pending(): number {
    return this.inFlight + this.queued;
  }

  /** Resolves when every event handed to emit() so far has been written (or given up). */
  flush(): Promise<void> {
    this.kick();
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Records an event: queued, written in the background. The returned promise resolves once it
   * is written or given up (never rejects); callers may fire and forget.
   */
  emit(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    if (this.queued >= (this.opts.maxQueued ?? MAX_QUEUED)) {
      this.lose('queue_full', { reason, object: `${obj.namespace ?? ''}/${obj.name}` });
      return Promise.resolve();
    }
    return new Promise<void>((done) => {
      this.queue.push({ at: performance.now(), obj, type, reason, message, done });
      this.kick();
    });
  }

  /** Starts queued writes up to the allowed concurrency (call when `yieldTo` may have changed). */
  kick(): void {
    const yielding = this.opts.yieldTo?.() ?? false;
    const limit = yielding ? 1 : Math.max(1, this.opts.concurrency ?? MAX_IN_FLIGHT);
    while (this.inFlight < limit && this.queued > 0) {
      const e = this.queue[this.head];
      if (!e) {
        this.head++;
        continue;
      }
      if (yielding) {
        const wait = e.at + (this.opts.maxDelayMs ?? MAX_DELAY_MS) - performance.now();
        if (wait > 0) {
          this.wakeIn(wait);
          return;
        }
      }
      this.queue[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.inFlight++;
      void this.write(e.obj, e.type, e.reason, e.message).finally(() => {
        this.inFlight--;
        e.done();
        this.kick();
        if (this.pending === 0) for (const w of this.idle.splice(0)) w();
      });
    }
  }

  /** Checks again when the oldest queued event is due (events waiting behind `yieldTo`). */
  private wakeIn(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, Math.ceil(ms));
    this.timer.unref?.();
  }

  private lose(why: EventLoss, fields: Record<string, unknown>): void {
    const n = ++this.lost[why];
    this.opts.onLost?.(why);
    if (why === 'queue_full' && n % 1000 === 1) this.logger?.warn({ ...fields, dropped: n }, 'event queue full; dropping events');
  }

  private async write(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const t = this.now();
    const ns = obj.namespace ?? 'default';
    const key = eventKey(this.component, { ...obj, namespace: ns }, type, reason, message);
    try {
      const prev = this.seen.get(key);
      if (prev && (await this.bump(key, prev, t))) return;
      const name = eventName(obj, key);
      const ev: KubeObject = {
        metadata: { name, namespace: ns },
        involvedObject: {
          apiVersion: obj.apiVersion ?? 'v1',
          kind: obj.kind,
          name: obj.name,
          namespace: ns,
          ...(obj.uid ? { uid: obj.uid } : {}),
          ...(obj.resourceVersion ? { resourceVersion: obj.resourceVersion } : {}),
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: kubeTime(t),
        lastTimestamp: kubeTime(t),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.instance,
      };
      try {
        await this.client.create(R.events, ev);
        this.stats.created++;
        this.remember(key, { name, namespace: ns, count: 1 });
      } catch (err) {
        if (!isConflict(err)) throw err;
        // The same event from before a restart: aggregate into it.
        const cur = await this.client.get<KubeObject & { count?: number }>(R.events, ns, name);
        const seen = { name, namespace: ns, count: typeof cur?.count === 'number' ? cur.count : 1 };
        if (!(await this.bump(key, seen, t))) throw err;
      }
    } catch (err) {
      this.stats.failed++;
      this.lose('write_failed', {});
      this.logger?.warn({ err: (err as Error).message, reason, object: `${ns}/${obj.name}` }, 'could not record event');
    }
  }

  /** PATCHes count+1 and lastTimestamp; false when the Event is gone (expired by the server). */
  private async bump(key: string, s: Seen, t: Date): Promise<boolean> {
    try {
      await this.client.patch(R.events, s.namespace, s.name, { count: s.count + 1, lastTimestamp: kubeTime(t) });
    } catch (err) {
      if (isNotFound(err)) {
        this.seen.delete(key);
        return false;
      }
      throw err;
    }
    this.stats.aggregated++;
    this.remember(key, { ...s, count: s.count + 1 });
    return true;
  }

  /** Event about a Service (the usual case). */
  service(svc: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.emit(
      {
        kind: 'Service',
        apiVersion: 'v1',
        name: svc.metadata.name,
        ...(svc.metadata.namespace ? { namespace: svc.metadata.namespace } : {}),
        ...(svc.metadata.uid ? { uid: svc.metadata.uid } : {}),
        ...(svc.metadata.resourceVersion ? { resourceVersion: svc.metadata.resourceVersion } : {}),
      },
      type,
      reason,
      message,
    );
  }
}
