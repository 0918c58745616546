// Lease-based leader election on coordination.k8s.io/v1 Leases, with client-go's rules:
//  - a Lease held by someone else is taken over only once it has not been renewed for
//    leaseDurationSeconds, measured on OUR clock from when we last saw it change (so clock
//    skew between replicas does not matter);
//  - the leader renews every retryPeriod; if it cannot renew within renewDeadline it stops
//    leading (and then competes again like any candidate);
//  - every write carries the Lease's resourceVersion, so two candidates cannot both win;
//  - on a clean stop the leader releases the Lease (empty holder) so another takes over at once.

import type { Logger } from 'pino';
import { isConflict, isNotFound, microTime, R } from './client.ts';
import type { KubeClient, KubeObject } from './client.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
  /** Injectable clock (ms). */
  now?: () => number;
}

export class LeaderElector {
  private leading = false;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private observed?: { rv: string; holder: string; at: number };
  private lastRenew = 0;
  private lease?: Lease;
  private lastLeader = '';
  private readonly durationS: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private busy?: Promise<void>;

  constructor(private readonly o: LeaderElectionOptions) {
    this.durationS = o.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = (o.renewDeadlineSeconds ?? Math.max(1, this.durationS * (2 / 3))) * 1000;
    this.retryMs = (o.retryPeriodSeconds ?? Math.max(0.2, this.durationS / 7.5)) * 1000;
    this.now = o.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; releases the Lease when we hold it (unless release is false). */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
    if (this.leading) {
      if (opts.release !== false) await this.release();
      this.setLeading(false);
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.busy = this.tick().finally(() => this.schedule(this.retryMs));
    }, ms);
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    if (v) {
      this.o.logger?.info({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }, 'became leader');
      this.o.onStartedLeading();
    } else {
      this.o.logger?.warn({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }, 'stopped leading');
      this.o.onStoppedLeading();
    }
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.o.logger?.warn({ err: (err as Error).message }, 'leader election: lease request failed');
    }
    if (this.stopped) return;
    if (ok) {
      this.lastRenew = this.now();
      this.setLeading(true);
    } else if (this.leading && this.now() - this.lastRenew > this.renewDeadlineMs) {
      this.setLeading(false);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const t = microTime(new Date(this.now()));
    const cur = await client.get<Lease>(R.leases, namespace, name);
    if (!cur) {
      try {
        this.lease = await client.create<Lease>(R.leases, {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: this.durationS, acquireTime: t, renewTime: t, leaseTransitions: 0 },
        });
        this.noteLeader(identity);
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    const spec = cur.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const rv = cur.metadata.resourceVersion ?? '';
    if (!this.observed || this.observed.rv !== rv) this.observed = { rv, holder, at: this.now() };
    this.noteLeader(holder);
    const duration = (spec.leaseDurationSeconds ?? this.durationS) * 1000;
    if (holder !== '' && holder !== identity && this.observed.at + duration > this.now()) return false;
    const next: Lease = {
      ...cur,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.durationS,
        renewTime: t,
        ...(holder === identity ? {} : { acquireTime: t, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      this.lease = await client.update<Lease>(R.leases, next);
      this.observed = { rv: this.lease.metadata.resourceVersion ?? '', holder: identity, at: this.now() };
      this.noteLeader(identity);
      return true;
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return false;
      throw e;
    }
  }

  private noteLeader(holder: string): void {
    if (holder !== '' && holder !== this.lastLeader) {
      this.lastLeader = holder;
      this.o.onNewLeader?.(holder);
    }
  }

  private async release(): Promise<void> {
    const cur = this.lease;
    if (!cur) return;
    try {
      await this.o.client.update<Lease>(R.leases, {
        ...cur,
        spec: { ...cur.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date(this.now())) },
      });
    } catch (err) {
      this.o.logger?.warn({ err: (err as Error).message }, 'leader election: release failed');
    }
  }
}
