// Thin Kubernetes REST client on @kubernetes/client-node 1.4: the library's KubeConfig supplies
// the server URL, TLS agent and credentials (kubeconfig file or in-cluster service account);
// requests go out through node:http(s) with that agent so that every verb, the /status
// subresource and every patch content type (merge, JSON, strategic) are under our control.
// Watches use the library's Watch class.

import http from 'node:http';
import https from 'node:https';
import { KubeConfig, Watch } from '@kubernetes/client-node';

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
} as const;

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

export interface LoadOptions {
  kubeconfig?: string;
  /** Force in-cluster (service account) configuration. */
  inCluster?: boolean;
}

/**
 * KubeConfig from `--kubeconfig FILE`, else $KUBECONFIG, else the in-cluster service account
 * when running in a pod, else ~/.kube/config. Throws a precise error when none is usable.
 */
export function loadKubeConfig(opts: LoadOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) {
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (e) {
      throw new Error(`cannot load kubeconfig ${opts.kubeconfig}: ${(e as Error).message}`);
    }
  } else if (opts.inCluster || (process.env['KUBERNETES_SERVICE_HOST'] && !process.env['KUBECONFIG'])) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
  return kc;
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

export class KubeClient {
  readonly server: string;
  private watcher: Watch;

  constructor(readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.watcher = new Watch(kc);
  }

  static fromOptions(opts: LoadOptions = {}): KubeClient {
    return new KubeClient(loadKubeConfig(opts));
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
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const ro: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(ro);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ro.headers ?? {})) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    headers['accept'] = 'application/json';
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
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async list<T extends KubeObject>(
    r: ResourceRef,
    opts: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<ListResult<T>> {
    const res = await this.request<{ items?: T[] | null; metadata?: { resourceVersion?: string } }>('GET', this.path(r, opts.namespace), {
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
    });
    const items = (res.items ?? []).map((o) => ({ ...o, apiVersion: o.apiVersion ?? apiVersion(r), kind: o.kind ?? r.kind }));
    return { items, resourceVersion: res.metadata?.resourceVersion ?? '' };
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
   * when the stream ends (err null on a clean close).
   */
  async watch(
    r: ResourceRef,
    params: { namespace?: string; resourceVersion?: string; labelSelector?: string; fieldSelector?: string; timeoutSeconds?: number },
    onEvent: (ev: WatchEvent) => void,
    onDone: (err: Error | null) => void,
  ): Promise<WatchHandle> {
    const query: Record<string, string> = { allowWatchBookmarks: 'true' };
    if (params.resourceVersion) query['resourceVersion'] = params.resourceVersion;
    if (params.labelSelector) query['labelSelector'] = params.labelSelector;
    if (params.fieldSelector) query['fieldSelector'] = params.fieldSelector;
    if (params.timeoutSeconds) query['timeoutSeconds'] = String(params.timeoutSeconds);
    const ctrl = await this.watcher.watch(
      this.path(r, params.namespace),
      query,
      (type: string, object: unknown) => onEvent({ type: type as WatchEvent['type'], object: object as WatchEvent['object'] }),
      (err: unknown) => onDone(err === null || err === undefined ? null : err instanceof Error ? err : new Error(String(err))),
    );
    return { abort: () => ctrl.abort() };
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
