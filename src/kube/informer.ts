// List-watch loop with a local cache, owned by us because client-node's informers stop on most
// errors and do not back off:
//   list → watch from the list's resourceVersion → on a clean close re-watch from the last seen
//   resourceVersion (bookmarks advance it) → on 410 Gone (ERROR event or HTTP 410) relist at
//   once → on any other error retry with exponential backoff + jitter. A periodic resync
//   replays every cached object as an update. After a relist the cache is diffed against the
//   fresh list so handlers see adds, updates and deletes they missed while disconnected.

import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { KubeApiError, keyOf } from './client.ts';
import type { KubeClient, KubeObject, ResourceRef, WatchEvent, WatchHandle } from './client.ts';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Replay the cache as updates this often (0 = never). */
  resyncMs?: number;
  /** Ask the server to end each watch after this long (it is then resumed). */
  watchTimeoutSeconds?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
  /** Called on every applied watch event / list (e.g. a metrics counter). */
  onUpdate?: (kind: string) => void;
  /**
   * The resource is a CRD that may not be installed (e.g. frr-k8s's FRRConfiguration): a 404
   * on list counts as an empty, synced cache (logged once), and the list is retried with
   * backoff (`absentRetryMaxMs`, default 30 s) until the CRD appears; if it is removed later
   * the cache empties (handlers see deletes).
   */
  optional?: boolean;
  /** Longest wait between retries while an optional resource is absent (default 30000). */
  absentRetryMaxMs?: number;
  /**
   * Applied to every object before it is cached and handed to the handlers (client-go's
   * SetTransform): keep a compact copy of what the reader needs (src/kube/compact.ts).
   */
  transform?: (o: KubeObject) => KubeObject;
}

export interface InformerStats {
  lists: number;
  watches: number;
  expired: number;
  errors: number;
  bookmarks: number;
}

export class Informer<T extends KubeObject> {
  private cache = new Map<string, T>();
  private handlers: InformerHandlers<T>[] = [];
  private rv = '';
  private stopped = true;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private current?: WatchHandle;
  private sleepTimer?: NodeJS.Timeout;
  private wake?: () => void;
  private resyncTimer?: NodeJS.Timeout;
  private backoff: Backoff;
  private absentBackoff: Backoff | undefined;
  private loop?: Promise<void>;
  readonly stats: InformerStats = { lists: 0, watches: 0, expired: 0, errors: 0, bookmarks: 0 };
  /** True while an optional resource is not served (404 on list). */
  private absentNow = false;

  constructor(
    private readonly client: KubeClient,
    readonly resource: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {
    this.backoff = new Backoff(opts.backoff);
  }

  addHandler(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  /** An optional resource the API server does not serve now (its CRD is not installed). */
  get absent(): boolean {
    return this.absentNow;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
    if (this.opts.resyncMs && this.opts.resyncMs > 0) {
      const tick = (): void => {
        if (this.stopped) return;
        for (const o of this.cache.values()) this.emit('update', o, o);
        this.resyncTimer = setTimeout(tick, this.opts.resyncMs);
      };
      this.resyncTimer = setTimeout(tick, this.opts.resyncMs);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    this.current?.abort();
    await this.loop;
  }

  private emit(kind: 'add' | 'update' | 'delete', a: T, b?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(a);
        else if (kind === 'update') h.update?.(a, b ?? a);
        else h.delete?.(a);
      } catch (err) {
        this.opts.logger?.error({ err, resource: this.resource.plural }, 'informer handler failed');
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  private async relist(): Promise<void> {
    const res = await this.client.list<T>(this.resource, {
      ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
      ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
      ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
    });
    this.stats.lists++;
    if (this.stopped) return;
    const fresh = new Map<string, T>();
    const tf = this.opts.transform;
    for (const o of res.items) fresh.set(keyOf(o), tf ? (tf(o) as T) : o);
    const old = this.cache;
    this.cache = fresh;
    this.rv = res.resourceVersion;
    for (const [k, o] of old) if (!fresh.has(k)) this.emit('delete', o);
    for (const [k, o] of fresh) {
      const prev = old.get(k);
      if (!prev) this.emit('add', o);
      else if (prev.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('update', prev, o);
    }
    this.opts.onUpdate?.('list');
    if (this.absentNow) {
      this.absentNow = false;
      this.opts.logger?.info({ resource: this.resourceName() }, 'resource is served now (its CRD was installed); watching it');
    }
    this.markSynced();
  }

  private markSynced(): void {
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private resourceName(): string {
    const r = this.resource;
    return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
  }

  /**
   * An optional resource answered 404 on list (its CRD is not installed) or 403 (RBAC without
   * it, e.g. an older manifest). The cache becomes
   * empty (deletes for what it held) and counts as synced; logged once per absence.
   */
  private markAbsent(code: number): void {
    if (!this.absentNow) {
      this.absentNow = true;
      const resource = this.resourceName();
      if (code === 404) this.opts.logger?.info({ resource }, 'resource not served by the API server (its CRD is not installed): treated as empty; checking again with backoff');
      else this.opts.logger?.warn({ resource }, 'not allowed to list this resource (403: check the RBAC rules): treated as empty; checking again with backoff');
    }
    const old = this.cache;
    this.cache = new Map();
    this.rv = '';
    for (const o of old.values()) this.emit('delete', o);
    this.markSynced();
  }

  /** One watch stream; resolves with 'expired' on 410, 'closed' on a clean end, or throws. */
  private watchOnce(): Promise<'expired' | 'closed'> {
    return new Promise((resolve, reject) => {
      let expired = false;
      let failure: Error | undefined;
      const onEvent = (ev: WatchEvent): void => {
        if (this.stopped) return;
        const tf = this.opts.transform;
        const o: WatchEvent['object'] = tf && (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') ? tf(ev.object) : ev.object;
        switch (ev.type) {
          case 'ADDED':
          case 'MODIFIED': {
            const k = keyOf(o);
            const prev = this.cache.get(k);
            this.cache.set(k, o as T);
            if (o.metadata.resourceVersion) this.rv = o.metadata.resourceVersion;
            if (prev) this.emit('update', prev, o as T);
            else this.emit('add', o as T);
            this.opts.onUpdate?.(ev.type);
            break;
          }
          case 'DELETED': {
            const k = keyOf(o);
            const prev = this.cache.get(k);
            this.cache.delete(k);
            if (o.metadata.resourceVersion) this.rv = o.metadata.resourceVersion;
            this.emit('delete', (prev ?? o) as T);
            this.opts.onUpdate?.(ev.type);
            break;
          }
          case 'BOOKMARK':
            if (o.metadata?.resourceVersion) this.rv = o.metadata.resourceVersion;
            this.stats.bookmarks++;
            break;
          case 'ERROR':
            if (o.code === 410) expired = true;
            else failure = new KubeApiError(o.code ?? 500, o.reason ?? 'Unknown', o.message ?? 'watch error');
            this.current?.abort();
            break;
        }
      };
      const onDone = (err: Error | null): void => {
        if (expired) resolve('expired');
        else if (failure) reject(failure);
        else if (err && !this.stopped) {
          if (err instanceof KubeApiError && err.code === 410) resolve('expired');
          else reject(err);
        } else resolve('closed');
      };
      this.stats.watches++;
      this.client
        .watch(
          this.resource,
          {
            ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
            resourceVersion: this.rv,
            ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
            ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
            timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
          },
          onEvent,
          onDone,
        )
        .then((h) => {
          this.current = h;
          if (this.stopped) h.abort();
        }, reject);
    });
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.backoff.reset();
          this.absentBackoff = undefined;
        }
        if (this.stopped) break;
        const started = Date.now();
        const r = await this.watchOnce();
        if (r === 'expired') {
          this.stats.expired++;
          this.opts.logger?.info({ resource: this.resource.plural, rv: this.rv }, 'watch expired (410 Gone), relisting');
          needList = true;
          continue;
        }
        // A clean close: resume from the last resourceVersion. A stream that ends at once
        // repeatedly is treated like an error so we do not spin.
        if (Date.now() - started < 1000) await this.sleep(this.backoff.next());
        else this.backoff.reset();
      } catch (err) {
        if (this.stopped) break;
        this.stats.errors++;
        if (err instanceof KubeApiError && err.code === 410) {
          needList = true;
          continue;
        }
        if (this.opts.optional && err instanceof KubeApiError && (err.code === 404 || err.code === 403)) {
          // list 404: the CRD is absent (403: we may not read it); watch 404: it was removed
          // while we watched -> relist
          if (needList) {
            this.markAbsent(err.code);
            this.absentBackoff ??= new Backoff({ initialMs: 1000, maxMs: this.opts.absentRetryMaxMs ?? 30000, ...(this.opts.backoff?.random ? { random: this.opts.backoff.random } : {}) });
            await this.sleep(this.absentBackoff.next());
          } else {
            needList = true;
            await this.sleep(this.backoff.next());
          }
          continue;
        }
        const delay = this.backoff.next();
        const fields = { resource: this.resource.plural, err: (err as Error).message, retryInMs: delay };
        // Rejected credentials are reported once by the client itself.
        const auth = err instanceof KubeApiError && (err.code === 401 || err.code === 403) && this.client.reportsAuthErrors;
        if (auth) this.opts.logger?.debug(fields, 'list/watch failed');
        else this.opts.logger?.warn(fields, 'list/watch failed');
        await this.sleep(delay);
      }
    }
  }
}

export interface CacheSyncOptions {
  /** Give up (resolve false) after this long. */
  timeoutMs?: number;
  /** Give up (resolve false) when aborted, e.g. on shutdown. */
  signal?: AbortSignal;
}

/**
 * client-go's WaitForCacheSync: resolves true once EVERY informer has completed its first list
 * (so a reconcile never sees, say, advertisements without the pools they name), false on
 * timeout or abort. Callers start no reconcile before it resolves true.
 */
export function waitForCacheSync(informers: readonly { hasSynced: boolean; waitForSync(): Promise<void> }[], opts: CacheSyncOptions = {}): Promise<boolean> {
  if (informers.every((i) => i.hasSynced)) return Promise.resolve(true);
  if (opts.signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (v: boolean): void => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = (): void => settle(false);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs !== undefined) timer = setTimeout(() => settle(false), opts.timeoutMs);
    void Promise.all(informers.map((i) => i.waitForSync())).then(() => settle(true));
  });
}
