// Kubernetes Events (core/v1) with MetalLB's reasons, aggregated like client-go's
// EventCorrelator: an event identical to an earlier one (same source, involved object, type,
// reason and message) bumps that Event's `count` and `lastTimestamp` with one PATCH instead of
// creating a new object. The Event's name is derived from that identity, so after a restart the
// first repeat finds the existing object (409 AlreadyExists → GET → PATCH) rather than adding a
// twin. Best effort: a failed write is logged, never propagated (events must not block
// reconciliation).

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
/** Event writes in flight at once; callers need not await emit(). */
const MAX_IN_FLIGHT = 4;
/** Events waiting beyond this are dropped with a warning (client-go's broadcaster drops at 1000). */
const MAX_WAITING = 10000;

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
  private waiting: (() => void)[] = [];
  private idle: (() => void)[] = [];
  private dropped = 0;
  /** Requests made (create / patch / get), for tests and benchmarks. */
  readonly stats = { created: 0, aggregated: 0, failed: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly instance: string,
    private readonly logger?: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private remember(key: string, s: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, s);
    if (this.seen.size > CACHE_SIZE) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /** Events being written or waiting their turn. */
  get pending(): number {
    return this.inFlight + this.waiting.length;
  }

  /** Resolves when every event handed to emit() so far has been written (or given up). */
  flush(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Records an event. At most MAX_IN_FLIGHT writes run at once; the rest wait their turn, so a
   * caller may fire and forget (the returned promise never rejects).
   */
  async emit(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      if (this.waiting.length >= MAX_WAITING) {
        if (this.dropped++ % 1000 === 0) this.logger?.warn({ reason, dropped: this.dropped }, 'event queue full; dropping events');
        return;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.inFlight++;
    try {
      await this.write(obj, type, reason, message);
    } finally {
      this.inFlight--;
      const next = this.waiting.shift();
      if (next) next();
      else if (this.inFlight === 0) for (const w of this.idle.splice(0)) w();
    }
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
