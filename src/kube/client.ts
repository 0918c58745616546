// Thin Kubernetes REST client: kubeconfig.ts supplies the server URL, TLS material and
// credentials (kubeconfig file or in-cluster service account; @kubernetes/client-node only for
// exec plugins, auth providers and proxies); requests (watches included) go out through
// node:http(s) over one kept-alive agent so that every verb,
// the /status subresource and every patch content type (merge, JSON, strategic) are under our
// control. Every request carries a User-Agent and every write a `fieldManager`, so the API
// server's managedFields and audit log say who wrote. Credentials rejected by the server
// (401, or 403 for one verb on one resource) are reported ONCE as an ERROR on the client's
// logger, not once per informer per retry; a later success on the same resource clears it.

import http from 'node:http';
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { Logger } from 'pino';
import { loadCredentials } from './kubeconfig.ts';
import type { Credentials, LoadOptions, RequestAuth } from './kubeconfig.ts';

export interface ResourceRef {
  group: string; // '' = core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

function ref(group: string, version: string, plural: string, kind: string, namespaced = true): ResourceRef {
  return { group, version, plural, kind, namespaced };
}

export const R = {
  services: ref('', 'v1', 'services', 'Service'),
  endpointslices: ref('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  nodes: ref('', 'v1', 'nodes', 'Node', false),
  namespaces: ref('', 'v1', 'namespaces', 'Namespace', false),
  secrets: ref('', 'v1', 'secrets', 'Secret'),
  configmaps: ref('', 'v1', 'configmaps', 'ConfigMap'),
  events: ref('', 'v1', 'events', 'Event'),
  leases: ref('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  ipaddresspools: ref('metallb.io', 'v1beta1', 'ipaddresspools', 'IPAddressPool'),
  bgppeers: ref('metallb.io', 'v1beta2', 'bgppeers', 'BGPPeer'),
  bgpadvertisements: ref('metallb.io', 'v1beta1', 'bgpadvertisements', 'BGPAdvertisement'),
  l2advertisements: ref('metallb.io', 'v1beta1', 'l2advertisements', 'L2Advertisement'),
  bfdprofiles: ref('metallb.io', 'v1beta1', 'bfdprofiles', 'BFDProfile'),
  communities: ref('metallb.io', 'v1beta1', 'communities', 'Community'),
  servicebgpstatuses: ref('metallb.io', 'v1beta1', 'servicebgpstatuses', 'ServiceBGPStatus'),
  servicel2statuses: ref('metallb.io', 'v1beta1', 'servicel2statuses', 'ServiceL2Status'),
  configurationstates: ref('metallb.io', 'v1beta1', 'configurationstates', 'ConfigurationState'),
  bgpsessionstates: ref('frrk8s.metallb.io', 'v1beta1', 'bgpsessionstates', 'BGPSessionState'),
  frrconfigurations: ref('frrk8s.metallb.io', 'v1beta1', 'frrconfigurations', 'FRRConfiguration'),
} as const;

/**
 * Configuration kinds whose CRD may be absent (frr-k8s's FRRConfiguration: installed by
 * frr-k8s or by our manifest): the speaker watches them as optional (a 404 is an empty list).
 */
export const OPTIONAL_CONFIG_RESOURCES: ResourceRef[] = [R.frrconfigurations];

/** The metallb.io configuration kinds (what buildConfig reads). */
export const CONFIG_RESOURCES: ResourceRef[] = [
  R.ipaddresspools,
  R.bgppeers,
  R.bgpadvertisements,
  R.l2advertisements,
  R.bfdprofiles,
  R.communities,
];

export function apiVersion(r: ResourceRef): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** A Kubernetes object as far as the client is concerned. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** An API error: the HTTP code plus the Status object's reason and message. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof KubeApiError && e.code === 404;
}
export function isConflict(e: unknown): boolean {
  return e instanceof KubeApiError && e.code === 409;
}

export type PatchType = 'merge' | 'json' | 'strategic';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface ClientOptions {
  /** User-Agent of every request (default `metallb-ts/<version> (node <version>)`). */
  userAgent?: string;
  /** `fieldManager` of every create/update/patch (default `metallb-ts`). */
  fieldManager?: string;
  /** Where rejected credentials are reported (once, as an ERROR). */
  logger?: Logger;
}

export const CLIENT_VERSION = '0.1.0';

export function defaultUserAgent(component = 'metallb-ts'): string {
  return `${component}/${CLIENT_VERSION} (${process.platform}/${process.arch}) node/${process.versions.node}`;
}

/** User-Agent and fieldManager of a component: `metallb-ts-controller`, `metallb-ts-speaker`. */
export function kubeClientIdentity(component: 'controller' | 'speaker'): { userAgent: string; fieldManager: string } {
  const name = `metallb-ts-${component}`;
  return { userAgent: defaultUserAgent(name), fieldManager: name };
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

export interface WatchHandle {
  abort(): void;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** `GET core/services`-style key of a request (verb + resource, no namespace or name). */
function resourceKey(method: string, path: string): string {
  const seg = path.split('?')[0]?.split('/').filter((x) => x !== '') ?? [];
  let rest = seg[0] === 'api' ? seg.slice(2) : seg.slice(3);
  const group = seg[0] === 'api' ? 'core' : (seg[1] ?? '');
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const sub = rest.length >= 3 ? `/${rest[2]}` : '';
  return `${method} ${group}/${rest[0] ?? ''}${sub}`;
}

class StaleConnectionError extends Error {}

export class KubeClient {
  readonly server: string;
  readonly userAgent: string;
  readonly fieldManager: string;
  private logger?: Logger;
  /** Auth failures already reported: '401' or the 403's resource key. */
  private authReported = new Set<string>();
  private agent?: { key: string; tls: https.AgentOptions; agent: http.Agent };

  constructor(
    private readonly credentials: Credentials,
    opts: ClientOptions = {},
  ) {
    this.server = credentials.server;
    this.userAgent = opts.userAgent ?? defaultUserAgent();
    this.fieldManager = opts.fieldManager ?? 'metallb-ts';
    if (opts.logger) this.logger = opts.logger;
  }

  static fromOptions(opts: LoadOptions & ClientOptions = {}): KubeClient {
    return new KubeClient(loadCredentials(opts), opts);
  }

  /** True when credential rejections are reported here (callers then log them at debug). */
  get reportsAuthErrors(): boolean {
    return this.logger !== undefined;
  }

  setLogger(logger: Logger): void {
    this.logger = logger;
  }

  private noteOutcome(method: string, path: string, code: number): void {
    if (code === 401 || code === 403) {
      const key = code === 401 ? '401' : resourceKey(method, path);
      if (this.authReported.has(key)) return;
      this.authReported.add(key);
      if (code === 401) {
        this.logger?.error(
          { status: 401, server: this.server },
          'the API server rejected our credentials (401 Unauthorized): check the kubeconfig or the ServiceAccount token; retrying quietly',
        );
      } else {
        this.logger?.error(
          { status: 403, request: key, server: this.server },
          `the API server denied ${key} (403 Forbidden): check the RBAC rules bound to this ServiceAccount; retrying quietly`,
        );
      }
      return;
    }
    if (code < 200 || code >= 300 || this.authReported.size === 0) return;
    const key = resourceKey(method, path);
    if (this.authReported.delete('401') || this.authReported.delete(key)) {
      this.logger?.info({ request: key }, 'the API server accepts our requests again');
    }
  }

  private async connection(method: string, path: string, query: Record<string, string | undefined>): Promise<{ url: URL; ro: https.RequestOptions; headers: Record<string, string> }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    if (WRITE_METHODS.has(method) && !url.searchParams.has('fieldManager')) url.searchParams.set('fieldManager', this.fieldManager);
    const auth = await this.credentials.forRequest();
    const ro: https.RequestOptions = { agent: this.agentFor(url, auth), ...(auth.auth ? { auth: auth.auth } : {}) };
    const headers: Record<string, string> = { ...auth.headers };
    headers['accept'] = 'application/json';
    headers['user-agent'] = this.userAgent;
    return { url, ro, headers };
  }

  /**
   * One kept-alive agent per TLS identity (CA, client certificate and key, verification, server
   * name), reused by every request and watch: no TCP connection (and, against a real cluster,
   * no TLS handshake) per request. A changed identity (a rotated client certificate) gets a new
   * agent. A proxy agent (client-node) is used as given.
   */
  private agentFor(url: URL, auth: RequestAuth): http.Agent {
    if (auth.agent) return auth.agent;
    const tls = url.protocol === 'https:';
    const o = auth.tls ?? {};
    if (this.agent?.tls === o) return this.agent.agent; // the same options object: nothing changed
    const key = tls
      ? createHash('sha256')
          .update(JSON.stringify([o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername, o.ciphers]))
          .digest('hex')
      : 'http';
    if (this.agent?.key !== key) {
      const opts = { keepAlive: true, scheduling: 'lifo' as const };
      this.agent = { key, tls: o, agent: tls ? new https.Agent({ ...o, ...opts }) : new http.Agent(opts) };
    } else this.agent.tls = o;
    return this.agent.agent;
  }

  path(r: ResourceRef, namespace?: string, name?: string, sub?: string): string {
    let p = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    if (r.namespaced && namespace !== undefined) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${r.plural}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (sub !== undefined) p += `/${sub}`;
    return p;
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    // A kept-alive connection the server closed just as we reused it (Node's documented
    // pattern): sent again, after a turn of the event loop so that the other connections the
    // server closed are noticed too; a few times at most.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce<T>(method, path, opts, attempt < 4);
      } catch (e) {
        if (!(e instanceof StaleConnectionError)) throw e;
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  private async requestOnce<T>(method: string, path: string, opts: RequestOptions, retryStale: boolean): Promise<T> {
    const { url, ro, headers } = await this.connection(method, path, opts.query ?? {});
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const mod = url.protocol === 'https:' ? https : http;
    return await new Promise<T>((resolve, reject) => {
      const req = mod.request(
        url,
        { method, headers, agent: ro.agent, ...(ro.auth ? { auth: ro.auth } : {}), timeout: opts.timeoutMs ?? 30000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = text === '' ? undefined : JSON.parse(text);
            } catch {
              body = undefined;
            }
            const code = res.statusCode ?? 0;
            this.noteOutcome(method, path, code);
            if (code >= 200 && code < 300) {
              resolve(body as T);
              return;
            }
            const st = (body ?? {}) as { reason?: string; message?: string };
            reject(new KubeApiError(code, st.reason ?? 'Unknown', st.message ?? `${method} ${path}: HTTP ${code} ${text.slice(0, 200)}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: request timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const stale = retryStale && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        reject(stale ? new StaleConnectionError(err.message) : err);
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * Lists in pages of `limit` (default 500, as client-go's pager) following `continue`; when a
   * continue token expires (410) the list restarts once without paging.
   */
  async list<T extends KubeObject>(
    r: ResourceRef,
    opts: { namespace?: string; labelSelector?: string; fieldSelector?: string; limit?: number } = {},
  ): Promise<ListResult<T>> {
    type Page = { items?: T[] | null; metadata?: { resourceVersion?: string; continue?: string } };
    const path = this.path(r, opts.namespace);
    const base = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
    const limit = opts.limit ?? 500;
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    try {
      do {
        const page: Page = await this.request<Page>('GET', path, {
          query: { ...base, ...(limit > 0 ? { limit: String(limit) } : {}), ...(cont ? { continue: cont } : {}) },
        });
        for (const o of page.items ?? []) items.push(o);
        rv = page.metadata?.resourceVersion ?? rv;
        cont = page.metadata?.continue || undefined;
      } while (cont !== undefined);
    } catch (e) {
      if (!(e instanceof KubeApiError && e.code === 410 && cont !== undefined)) throw e;
      return this.list<T>(r, { ...opts, limit: 0 });
    }
    // Core kinds come back without kind/apiVersion per item: fill them in for our readers.
    const out = items.map((o) => ({ ...o, apiVersion: o.apiVersion ?? apiVersion(r), kind: o.kind ?? r.kind }));
    return { items: out, resourceVersion: rv };
  }

  /** GET one object; undefined when it does not exist. */
  async get<T extends KubeObject>(r: ResourceRef, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', this.path(r, namespace, name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async create<T extends KubeObject>(r: ResourceRef, obj: T): Promise<T> {
    const body = { apiVersion: apiVersion(r), kind: r.kind, ...obj };
    return await this.request<T>('POST', this.path(r, obj.metadata.namespace), { body });
  }

  /** PUT the whole object (to the /status subresource when `status` is set). */
  async update<T extends KubeObject>(r: ResourceRef, obj: T, opts: { status?: boolean } = {}): Promise<T> {
    const body = { apiVersion: apiVersion(r), kind: r.kind, ...obj };
    return await this.request<T>('PUT', this.path(r, obj.metadata.namespace, obj.metadata.name, opts.status ? 'status' : undefined), { body });
  }

  async patch<T extends KubeObject>(
    r: ResourceRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts: { type?: PatchType; status?: boolean } = {},
  ): Promise<T> {
    return await this.request<T>('PATCH', this.path(r, namespace, name, opts.status ? 'status' : undefined), {
      body: patch,
      contentType: PATCH_CONTENT_TYPE[opts.type ?? 'merge'],
    });
  }

  /** DELETE; false when it was already gone. */
  async delete(r: ResourceRef, namespace: string | undefined, name: string, preconditions?: { uid?: string; resourceVersion?: string }): Promise<boolean> {
    try {
      await this.request('DELETE', this.path(r, namespace, name), {
        ...(preconditions ? { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions } } : {}),
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * Opens a watch stream. `onEvent` gets every decoded event; `onDone` is called exactly once
   * when the stream ends (err null on a clean close or an abort; a KubeApiError carrying the
   * HTTP code when the server refused the watch).
   */
  async watch(
    r: ResourceRef,
    params: { namespace?: string; resourceVersion?: string; labelSelector?: string; fieldSelector?: string; timeoutSeconds?: number },
    onEvent: (ev: WatchEvent) => void,
    onDone: (err: Error | null) => void,
  ): Promise<WatchHandle> {
    const path = this.path(r, params.namespace);
    const query: Record<string, string | undefined> = {
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: params.resourceVersion || undefined,
      labelSelector: params.labelSelector || undefined,
      fieldSelector: params.fieldSelector || undefined,
      timeoutSeconds: params.timeoutSeconds ? String(params.timeoutSeconds) : undefined,
    };
    const { url, ro, headers } = await this.connection('GET', path, query);
    let finished = false;
    const finish = (err: Error | null): void => {
      if (finished) return;
      finished = true;
      onDone(err);
    };
    const mod = url.protocol === 'https:' ? https : http;
    let started: () => void = () => undefined;
    const responded = new Promise<void>((resolve) => (started = resolve));
    const req = mod.request(url, { method: 'GET', headers, agent: ro.agent, ...(ro.auth ? { auth: ro.auth } : {}) }, (res) => {
      started();
      const code = res.statusCode ?? 0;
      this.noteOutcome('GET', path, code);
      res.setEncoding('utf8');
      if (code !== 200) {
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let st: { reason?: string; message?: string } = {};
          try {
            st = JSON.parse(text) as typeof st;
          } catch {
            /* not a Status */
          }
          finish(new KubeApiError(code, st.reason ?? 'Unknown', st.message ?? `watch ${path}: HTTP ${code}`));
        });
        res.on('error', (e) => finish(e));
        return;
      }
      res.socket?.setKeepAlive(true, 30000);
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while (!finished && (nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === '') continue;
          let ev: WatchEvent;
          try {
            ev = JSON.parse(line) as WatchEvent;
          } catch (e) {
            req.destroy();
            finish(new Error(`watch ${path}: undecodable event: ${(e as Error).message}`));
            return;
          }
          onEvent(ev);
        }
      });
      res.on('end', () => finish(null));
      res.on('error', (e) => finish(e));
      res.on('close', () => finish(null));
    });
    req.on('error', (e) => {
      started();
      finish(e);
    });
    req.end();
    // Like client-go, the watch is "open" once the server answered (or the request failed).
    await responded;
    return {
      abort: () => {
        if (finished) return;
        req.destroy();
        finish(null);
      },
    };
  }
}

/** Key of an object in caches and work queues: `namespace/name`, or `name` when cluster-scoped. */
export function keyOf(o: { metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * Whether an update changed what configuration readers care about: spec (generation) or labels.
 * Status-only writes (e.g. IPAddressPool counts) do not count, which avoids feedback loops.
 */
export function specOrLabelsChanged(a: KubeObject, b: KubeObject): boolean {
  const ga = a.metadata['generation'];
  const gb = b.metadata['generation'];
  if (ga === undefined || gb === undefined || ga !== gb) return true;
  return JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {});
}

/** Kubernetes MicroTime (RFC 3339 with microseconds). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Kubernetes Time (RFC 3339, seconds). */
export function kubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
