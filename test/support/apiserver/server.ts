// An HTTP Kubernetes API server for tests. It implements the REST semantics metallb-ts relies
// on, the way kube-apiserver does:
//   - list (resourceVersion, labelSelector, fieldSelector metadata.name / metadata.namespace)
//   - watch (?watch=true&resourceVersion=N&allowWatchBookmarks=true&timeoutSeconds=S): JSON
//     lines ADDED / MODIFIED / DELETED / BOOKMARK / ERROR; a resourceVersion older than the
//     retained history window gets HTTP 200 then an ERROR event carrying a 410 Expired Status
//   - create (generateName, uid, creationTimestamp, generation), get, update (409 Conflict on a
//     stale metadata.resourceVersion; CRDs require one), patch (merge, JSON, strategic-simple),
//     delete (with preconditions), deletecollection
//   - the /status subresource (strategy.ts): writes through it change only status (a core
//     Service's status write also keeps metadata changes, as kube-apiserver's Service status
//     strategy resets only spec); writes to the main resource leave status untouched
//   - a single, monotonically increasing resourceVersion; no-op writes do not bump it
//   - discovery (/api, /apis, /api/v1, /apis/G/V)
// Test control (not part of the Kubernetes API): closeWatches() and compact() (also reachable
// as POST /__test/close-watches and POST /__test/compact) to provoke reconnects and 410s, and
// restart() (POST /__test/restart): every connection dropped and the watch history gone, so
// clients resume with 410 and relist, as after a kube-apiserver restart.
// Realism (realism.ts): Service defaults, ipMode VIP, paging, latency, shuffled lists, list
// items of core kinds without kind/apiVersion, request accounting by verb (countByVerb()).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { RESOURCE_TYPES, apiVersionOf, findType, typeId } from './resources.ts';
import type { ResourceType } from './resources.ts';
import { PatchError, jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import type { Json } from './patch.ts';
import { SelectorError, fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { FieldReq, LabelReq } from './selectors.ts';
import { validate } from './openapi.ts';
import { Pager, ServiceAllocators, defaultService, pickDelay, prng, releaseService, shuffle, verbOf } from './realism.ts';
import type { LatencyOptions, Verb } from './realism.ts';
import type { FieldError, Schema } from './openapi.ts';
import { clone, isObj, mergeForWrite, sameIgnoringRV, specPart } from './strategy.ts';
import type { Obj, StrategyOptions } from './strategy.ts';

export type { Obj } from './strategy.ts';

interface HistoryEvent {
  rv: number;
  tid: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: Obj;
  old?: Obj;
}

interface Watcher {
  tid: string;
  rt: ResourceType;
  version: string;
  namespace?: string;
  labels: LabelReq[];
  fields: FieldReq[];
  res: http.ServerResponse;
  bookmarks: boolean;
  timers: NodeJS.Timeout[];
  closed: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  /** Kubernetes verb (get, list, watch, create, update, patch, delete, deletecollection). */
  verb: Verb;
  contentType?: string;
  userAgent?: string;
  /** The `fieldManager` query parameter of a write. */
  fieldManager?: string;
  status: number;
}

/** Decides authentication/authorization of one request: 401, 403 or undefined (allowed). */
export type Authorizer = (req: { method: string; path: string; verb: Verb; token?: string }) => 401 | 403 | undefined;

export interface ApiServerOptions extends LatencyOptions, StrategyOptions {
  authorize?: Authorizer;
  /** How many history events are retained for watches (older resourceVersions get 410). */
  historyLimit?: number;
  /** Interval between BOOKMARK events on watches that allow them. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  port?: number;
  /**
   * Also serve on this Unix socket. Network namespaces do not isolate the filesystem, so a
   * forwarder (forward.ts) inside a test namespace can reach the server through it.
   */
  socketPath?: string;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const GEN_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  private server: http.Server;
  private unixServer?: http.Server;
  private rv = 0;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private floor = 0;
  private history: HistoryEvent[] = [];
  private store = new Map<string, Map<string, Obj>>();
  private watchers = new Set<Watcher>();
  private historyLimit: number;
  private bookmarkMs: number;
  private readonly opts: ApiServerOptions;
  private readonly rnd: () => number;
  private readonly svcAlloc = new ServiceAllocators();
  private readonly pager = new Pager<Obj>();
  private connections = 0;
  url = '';

  private constructor(opts: ApiServerOptions) {
    this.opts = opts;
    this.rnd = prng(typeof opts.shuffleLists === 'number' ? opts.shuffleLists : Date.now());
    this.historyLimit = opts.historyLimit ?? 10000;
    this.bookmarkMs = opts.bookmarkIntervalMs ?? 1000;
    for (const t of RESOURCE_TYPES) this.store.set(typeId(t), new Map());
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', String(err));
        this.sendError(res, e);
      });
    };
    this.server = http.createServer(handler);
    this.server.on('connection', () => this.connections++);
    // Idle connections stay open like kube-apiserver's (Go keeps them; 90 s is Go's client-side
    // idle timeout). Node announces this as `Keep-Alive: timeout=N` and Node clients do not
    // reuse a connection when N ≤ 1 s, so a short value would cost a new connection per request.
    this.server.keepAliveTimeout = 90000;
    if (opts.socketPath) this.unixServer = http.createServer(handler);
    for (const ns of DEFAULT_NAMESPACES) {
      this.createObject(this.typeOf('', 'namespaces'), 'v1', undefined, { metadata: { name: ns } });
    }
  }

  static async start(opts: ApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const addr = s.server.address() as AddressInfo;
    s.url = `http://127.0.0.1:${addr.port}`;
    const unix = s.unixServer;
    if (unix && opts.socketPath) {
      const path = opts.socketPath;
      await new Promise<void>((resolve, reject) => {
        unix.once('error', reject);
        unix.listen(path, () => resolve());
      });
    }
    return s;
  }

  async close(): Promise<void> {
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const unix = this.unixServer;
    if (unix) {
      unix.closeAllConnections();
      await new Promise<void>((resolve) => unix.close(() => resolve()));
    }
  }

  /** A kubeconfig (YAML) pointing at this server. */
  kubeconfig(server = this.url): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${server}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: test',
      '  user:',
      '    token: test-token',
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: test',
      'current-context: fake',
      '',
    ].join('\n');
  }

  writeKubeconfig(path: string, server = this.url): string {
    writeFileSync(path, this.kubeconfig(server));
    return path;
  }

  /** Test control: ends every open watch stream (clients must reconnect). */
  closeWatches(): number {
    const n = this.watchers.size;
    for (const w of [...this.watchers]) this.endWatch(w);
    return n;
  }

  /** Test control: forgets all history, so any watch from an older resourceVersion gets 410. */
  compact(): void {
    this.history = [];
    this.floor = this.rv;
    this.pager.clear();
  }

  /**
   * Test control: what clients see when kube-apiserver restarts: every connection (watches and
   * keep-alive) is dropped and the watch cache starts empty, so a watch resumed from an earlier
   * resourceVersion gets 410 Expired and the client must relist.
   */
  restart(): void {
    this.closeWatches();
    this.server.closeAllConnections();
    this.unixServer?.closeAllConnections();
    this.bump(); // the store moved on meanwhile (other writers), so every client's resourceVersion is now too old
    this.compact();
  }

  /** Number of requests so far by verb (optionally only those matching `filter`). */
  countByVerb(filter: (r: RequestRecord) => boolean = () => true): Partial<Record<Verb, number>> {
    const out: Partial<Record<Verb, number>> = {};
    for (const r of this.requests) if (filter(r)) out[r.verb] = (out[r.verb] ?? 0) + 1;
    return out;
  }

  /** Set or change per-request latency, list latency and list shuffling at run time. */
  setLatency(l: LatencyOptions): void {
    Object.assign(this.opts, l);
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** TCP connections accepted so far (keep-alive clients reuse theirs). */
  get connectionsAccepted(): number {
    return this.connections;
  }

  openWatches(): number {
    return this.watchers.size;
  }

  // ---- direct (in-process) access for test setup and assertions ----

  /** Returns a copy of a stored object, or undefined. */
  getObject(group: string, plural: string, namespace: string | undefined, name: string): Obj | undefined {
    const rt = this.typeOf(group, plural);
    const o = this.store.get(typeId(rt))?.get(this.key(rt, namespace, name));
    return o ? clone(o) : undefined;
  }

  listObjects(group: string, plural: string, namespace?: string): Obj[] {
    const rt = this.typeOf(group, plural);
    const all = [...(this.store.get(typeId(rt))?.values() ?? [])];
    return all.filter((o) => namespace === undefined || o.metadata.namespace === namespace).map((o) => clone(o));
  }

  private typeOf(group: string, plural: string): ResourceType {
    const t = RESOURCE_TYPES.find((x) => x.group === group && x.plural === plural);
    if (!t) throw new Error(`unknown resource ${group}/${plural}`);
    return t;
  }

  private key(rt: ResourceType, ns: string | undefined, name: string): string {
    return rt.namespaced ? `${ns ?? ''}/${name}` : name;
  }

  // ---- HTTP ----

  private async readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private send(res: http.ServerResponse, code: number, body: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private statusObject(e: HttpError): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: e.message,
      reason: e.reason,
      ...(e.details ? { details: e.details } : {}),
      code: e.code,
    };
  }

  private sendError(res: http.ServerResponse, e: HttpError): void {
    this.send(res, e.code, this.statusObject(e));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const seg = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const named = this.namesObject(seg);
    const record: RequestRecord = { method, path: url.pathname, verb: verbOf(method, named, watching), status: 0 };
    const ct = req.headers['content-type'];
    if (ct) record.contentType = ct.split(';')[0]?.trim() ?? ct;
    const ua = req.headers['user-agent'];
    if (ua) record.userAgent = ua;
    const fm = url.searchParams.get('fieldManager');
    if (fm !== null) record.fieldManager = fm;
    if (seg[0] !== '__test') this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    if (seg[0] !== '__test') {
      const delay = pickDelay(this.opts.requestLatencyMs, this.rnd) + (record.verb === 'list' ? pickDelay(this.opts.listLatencyMs, this.rnd) : 0);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const auth = req.headers['authorization'];
      const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
      const verdict = this.opts.authorize?.({ method, path: url.pathname, verb: record.verb, ...(token !== undefined ? { token } : {}) });
      if (verdict === 401) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
      if (verdict === 403) {
        throw new HttpError(403, 'Forbidden', `${url.pathname} is forbidden: User "system:serviceaccount:test" cannot ${record.verb} this resource`);
      }
    }

    if (seg[0] === '__test') {
      if (seg[1] === 'restart') {
        this.send(res, 200, { restarted: true });
        setImmediate(() => this.restart());
        return;
      }
      if (seg[1] === 'close-watches') return this.send(res, 200, { closed: this.closeWatches() });
      if (seg[1] === 'counts') {
        // GET /__test/counts?from=N&ua=PREFIX&path=PREFIX: requests since the N-th, by verb.
        const q = url.searchParams;
        const from = Number(q.get('from') ?? '0') || 0;
        const ua = q.get('ua') ?? '';
        const prefix = q.get('path') ?? '';
        const byVerb: Record<string, number> = {};
        let count = 0;
        for (const r of this.requests.slice(from)) {
          if (!(r.userAgent ?? '').startsWith(ua) || !r.path.startsWith(prefix)) continue;
          byVerb[r.verb] = (byVerb[r.verb] ?? 0) + 1;
          count++;
        }
        return this.send(res, 200, { total: this.requests.length, byVerb, count });
      }
      if (seg[1] === 'compact') {
        this.compact();
        return this.send(res, 200, { floor: this.floor });
      }
      throw new HttpError(404, 'NotFound', 'unknown test control');
    }
    if (method === 'GET' && seg.length === 1 && seg[0] === 'api') {
      return this.send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    }
    if (method === 'GET' && seg.length === 1 && seg[0] === 'apis') return this.send(res, 200, this.groupList());
    if (method === 'GET' && seg[0] === 'version' && seg.length === 1) {
      return this.send(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-metallb-ts-fake' });
    }

    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg[1] === 'v1') {
      group = '';
      version = 'v1';
      rest = seg.slice(2);
    } else if (seg[0] === 'apis' && seg.length >= 3) {
      group = seg[1] ?? '';
      version = seg[2] ?? '';
      rest = seg.slice(3);
    } else {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (rest.length === 0) {
      if (method !== 'GET') throw new HttpError(405, 'MethodNotAllowed', 'method not allowed');
      return this.send(res, 200, this.resourceList(group, version));
    }

    let ns: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const inner = findType(group, version, rest[2] ?? '');
      if (inner?.namespaced) {
        ns = rest[1];
        rest = rest.slice(2);
      }
    }
    const [plural, name, sub] = rest;
    if (rest.length > 3) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    const rt = findType(group, version, plural ?? '');
    if (!rt || !this.served(rt)) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    if (sub !== undefined && !(sub === 'status' && rt.status)) {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (name !== undefined && rt.namespaced && ns === undefined) {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const q = url.searchParams;

    if (name === undefined) {
      if (method === 'GET') {
        const labels = this.parseLabels(q.get('labelSelector'));
        const fields = this.parseFields(q.get('fieldSelector'));
        if (q.get('watch') === 'true' || q.get('watch') === '1') {
          return this.startWatch(rt, version, ns, labels, fields, q, res);
        }
        return this.send(res, 200, this.pagedList(rt, version, ns, labels, fields, q));
      }
      if (method === 'POST') {
        const body = this.parseJSON(await this.readBody(req));
        return this.send(res, 201, this.createObject(rt, version, ns, body, q.get('fieldValidation') === 'Strict'));
      }
      if (method === 'DELETE') {
        const labels = this.parseLabels(q.get('labelSelector'));
        const fields = this.parseFields(q.get('fieldSelector'));
        const items = this.list(rt, version, ns, labels, fields).items as Obj[];
        for (const o of items) this.deleteObject(rt, version, o.metadata.namespace, o.metadata.name, undefined);
        return this.send(res, 200, { ...this.listShell(rt, version), items });
      }
      throw new HttpError(405, 'MethodNotAllowed', `method ${method} not allowed on a collection`);
    }

    if (method === 'GET') return this.send(res, 200, this.present(rt, version, this.mustGet(rt, ns, name)));
    if (method === 'PUT') {
      const body = this.parseJSON(await this.readBody(req));
      return this.send(res, 200, this.updateObject(rt, version, ns, name, body, sub === 'status', q.get('fieldValidation') === 'Strict'));
    }
    if (method === 'PATCH') {
      const text = await this.readBody(req);
      return this.send(res, 200, this.patchObject(rt, version, ns, name, record.contentType ?? '', text, sub === 'status', q.get('fieldValidation') === 'Strict'));
    }
    if (method === 'DELETE') {
      if (sub) throw new HttpError(405, 'MethodNotAllowed', 'cannot delete a subresource');
      const text = await this.readBody(req);
      const opts = text.trim() === '' ? undefined : this.parseJSON(text);
      const deleted = this.deleteObject(rt, version, ns, name, opts);
      return this.send(res, 200, deleted);
    }
    throw new HttpError(405, 'MethodNotAllowed', `method ${method} not allowed`);
  }

  private groupList(): Record<string, unknown> {
    const groups = new Map<string, string[]>();
    for (const t of RESOURCE_TYPES) {
      if (t.group === '') continue;
      const vs = groups.get(t.group) ?? [];
      for (const v of t.versions) if (!vs.includes(v)) vs.push(v);
      groups.set(t.group, vs);
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, vs]) => ({
        name,
        versions: vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${vs[0]}`, version: vs[0] },
      })),
    };
  }

  /** A `crdOnly` type is served only while its CRD exists. */
  private served(rt: ResourceType): boolean {
    return !rt.crdOnly || this.store.get('apiextensions.k8s.io/customresourcedefinitions')?.has(`${rt.plural}.${rt.group}`) === true;
  }

  private resourceList(group: string, version: string): Record<string, unknown> {
    const types = RESOURCE_TYPES.filter((t) => t.group === group && t.versions.includes(version) && this.served(t));
    if (types.length === 0) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    const resources: Record<string, unknown>[] = [];
    for (const t of types) {
      resources.push({
        name: t.plural,
        singularName: t.kind.toLowerCase(),
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      });
      if (t.status) resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
  }

  private parseJSON(text: string): Record<string, unknown> {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, 'BadRequest', `the body of the request was in an unknown format: ${(e as Error).message}`);
    }
    if (!isObj(v)) throw new HttpError(400, 'BadRequest', 'the body of the request must be a JSON object');
    return v;
  }

  private parseLabels(s: string | null): LabelReq[] {
    if (!s) return [];
    try {
      return parseLabelSelector(s);
    } catch (e) {
      if (e instanceof SelectorError) throw new HttpError(400, 'BadRequest', e.message);
      throw e;
    }
  }

  private parseFields(s: string | null): FieldReq[] {
    if (!s) return [];
    try {
      return parseFieldSelector(s);
    } catch (e) {
      if (e instanceof SelectorError) throw new HttpError(400, 'BadRequest', e.message);
      throw e;
    }
  }

  private notFound(rt: ResourceType, name: string): HttpError {
    return new HttpError(404, 'NotFound', `${rt.plural}${rt.group ? '.' + rt.group : ''} "${name}" not found`, {
      name,
      group: rt.group,
      kind: rt.plural,
    });
  }

  private conflict(rt: ResourceType, name: string): HttpError {
    return new HttpError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${rt.plural}${rt.group ? '.' + rt.group : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: rt.group, kind: rt.plural },
    );
  }

  private invalid(rt: ResourceType, name: string, field: string, message: string): HttpError {
    return new HttpError(422, 'Invalid', `${rt.kind} "${name}" is invalid: ${field}: ${message}`, {
      name,
      group: rt.group,
      kind: rt.kind,
      causes: [{ reason: 'FieldValueInvalid', message, field }],
    });
  }

  private mustGet(rt: ResourceType, ns: string | undefined, name: string): Obj {
    const o = this.store.get(typeId(rt))?.get(this.key(rt, ns, name));
    if (!o) throw this.notFound(rt, name);
    return o;
  }

  private present(rt: ResourceType, version: string, o: Obj): Obj {
    const c = clone(o);
    return { apiVersion: apiVersionOf(rt.group, version), kind: rt.kind, ...c, metadata: c.metadata } as Obj;
  }

  private listShell(rt: ResourceType, version: string): Record<string, unknown> {
    return { apiVersion: apiVersionOf(rt.group, version), kind: `${rt.kind}List`, metadata: { resourceVersion: String(this.rv) } };
  }

  private matches(o: Obj, ns: string | undefined, labels: LabelReq[], fields: FieldReq[]): boolean {
    if (ns !== undefined && o.metadata.namespace !== ns) return false;
    return labelsMatch(labels, o.metadata.labels) && fieldsMatch(fields, o);
  }

  private list(rt: ResourceType, version: string, ns: string | undefined, labels: LabelReq[], fields: FieldReq[]): Record<string, unknown> {
    const items = [...(this.store.get(typeId(rt))?.values() ?? [])]
      .filter((o) => this.matches(o, ns, labels, fields))
      .sort((a, b) => this.key(rt, a.metadata.namespace, a.metadata.name).localeCompare(this.key(rt, b.metadata.namespace, b.metadata.name)))
      .map((o) => this.present(rt, version, o));
    return { ...this.listShell(rt, version), items };
  }

  /** Does the path name one object (…/plural/name[/sub])? */
  private namesObject(seg: string[]): boolean {
    const rest = seg[0] === 'api' ? seg.slice(2) : seg[0] === 'apis' ? seg.slice(3) : [];
    const inner = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
    if (rest[0] === 'namespaces' && rest.length === 2) return true; // GET /api/v1/namespaces/NAME
    return inner.length >= 2;
  }

  /**
   * A list as kube-apiserver answers it: items of built-in (core and other non-CRD) kinds carry
   * no kind/apiVersion, the order may be shuffled (shuffleLists), and `limit`/`continue` page
   * through a snapshot taken by the first page.
   */
  private pagedList(rt: ResourceType, version: string, ns: string | undefined, labels: LabelReq[], fields: FieldReq[], q: URLSearchParams): Record<string, unknown> {
    const limit = Number(q.get('limit') ?? '0') || 0;
    const cont = q.get('continue');
    let items: Obj[];
    let rv = this.rv;
    let token: string | undefined;
    let remaining = 0;
    if (cont) {
      const r = this.pager.next(cont, limit, this.floor);
      if (r === 'invalid') throw new HttpError(400, 'BadRequest', 'continue key is not valid');
      if (r === 'expired') {
        throw new HttpError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      ({ page: items, rv, remaining } = r);
      token = r.token;
    } else {
      items = this.list(rt, version, ns, labels, fields)['items'] as Obj[];
      if (this.opts.shuffleLists) shuffle(items, this.rnd);
      if (rt.group !== 'metallb.io') {
        for (const o of items) {
          delete o['kind'];
          delete o['apiVersion'];
        }
      }
      const r = this.pager.first(items, rv, limit);
      ({ page: items, remaining } = r);
      token = r.token;
    }
    const shell = this.listShell(rt, version);
    const meta: Record<string, unknown> = { resourceVersion: String(rv) };
    if (token) {
      meta['continue'] = token;
      meta['remainingItemCount'] = remaining;
    }
    return { ...shell, metadata: meta, items };
  }

  private bump(): string {
    this.rv += 1;
    return String(this.rv);
  }

  private record(rt: ResourceType, type: HistoryEvent['type'], obj: Obj, old?: Obj): void {
    const ev: HistoryEvent = { rv: this.rv, tid: typeId(rt), type, obj: clone(obj), ...(old ? { old: clone(old) } : {}) };
    this.history.push(ev);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.floor = dropped.rv;
    }
    for (const w of this.watchers) this.deliver(w, ev);
  }

  private checkName(rt: ResourceType, name: unknown): string {
    if (typeof name !== 'string' || name === '') {
      throw this.invalid(rt, '', 'metadata.name', 'Required value: name or generateName is required');
    }
    if (name.length > 253 || !NAME_RE.test(name)) {
      throw this.invalid(rt, name, 'metadata.name', `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
    }
    return name;
  }

  /**
   * Custom resources are validated (and pruned) against the openAPIV3Schema of their
   * CustomResourceDefinition when one has been created in this server, like kube-apiserver.
   */
  private crdCheck(rt: ResourceType, version: string, o: Obj, strict: boolean): Obj {
    if (rt.group !== 'metallb.io') return o;
    const crd = this.store.get('apiextensions.k8s.io/customresourcedefinitions')?.get(`${rt.plural}.${rt.group}`);
    if (!crd) return o;
    const versions = ((crd['spec'] as { versions?: { name: string; schema?: { openAPIV3Schema?: Schema } }[] } | undefined)?.versions ?? []);
    const v = versions.find((x) => x.name === version);
    if (!v) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${rt.plural}.${rt.group}/${version})`);
    const root = v.schema?.openAPIV3Schema;
    if (!root) return o;
    const errors: FieldError[] = [];
    const out = clone(o);
    for (const req of root.required ?? []) if (!(req in o)) errors.push({ field: req, message: 'Required value' });
    for (const [k, val] of Object.entries(o)) {
      if (k === 'metadata' || k === 'apiVersion' || k === 'kind') continue;
      const ps = root.properties?.[k];
      if (!ps) {
        if (strict) errors.push({ field: k, message: `unknown field "${k}"` });
        delete out[k];
        continue;
      }
      const r = validate(ps, val, { strict }, k);
      errors.push(...r.errors);
      out[k] = r.value;
    }
    if (errors.length > 0) {
      const name = o.metadata.name;
      const msg = errors.map((e) => `${e.field}: ${e.message}`).join(', ');
      throw new HttpError(422, 'Invalid', `${rt.kind}.${rt.group} "${name}" is invalid: ${msg}`, {
        name,
        group: rt.group,
        kind: rt.kind,
        causes: errors.map((e) => ({ reason: 'FieldValueInvalid', message: e.message, field: e.field })),
      });
    }
    return out;
  }

  createObject(rt: ResourceType, version: string, ns: string | undefined, body: Record<string, unknown>, strict = false): Obj {
    const o = clone(body) as Obj;
    if (!isObj(o.metadata)) o.metadata = { name: '' };
    const meta = o.metadata;
    if (rt.namespaced) {
      const bodyNs = meta.namespace;
      if (bodyNs !== undefined && bodyNs !== '' && bodyNs !== ns) {
        throw new HttpError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      if (ns === undefined) throw new HttpError(405, 'MethodNotAllowed', 'namespaced objects must be created in a namespace');
      if (!this.store.get('/namespaces')?.has(ns)) {
        throw new HttpError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
      }
      meta.namespace = ns;
    } else delete meta.namespace;
    if ((meta.name === undefined || meta.name === '') && typeof meta.generateName === 'string' && meta.generateName !== '') {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += GEN_ALPHABET[Math.floor(Math.random() * GEN_ALPHABET.length)];
      meta.name = meta.generateName + suffix;
    }
    const name = this.checkName(rt, meta.name);
    const store = this.store.get(typeId(rt));
    if (!store) throw new HttpError(500, 'InternalError', 'no storage');
    const key = this.key(rt, ns, name);
    if (store.has(key)) {
      throw new HttpError(409, 'AlreadyExists', `${rt.plural}${rt.group ? '.' + rt.group : ''} "${name}" already exists`, {
        name,
        group: rt.group,
        kind: rt.plural,
      });
    }
    if (rt.status && rt.kind !== 'Namespace' && rt.kind !== 'Node' && rt.kind !== 'Pod') delete o['status'];
    delete o['apiVersion'];
    delete o['kind'];
    if (rt.group === '' && rt.kind === 'Service') {
      try {
        defaultService(o, this.svcAlloc);
      } catch (e) {
        throw this.invalid(rt, name, 'spec.ports[0].nodePort', `Internal error: failed to allocate a nodePort: ${(e as Error).message}`);
      }
    }
    const stored = this.crdCheck(rt, version, o, strict);
    const sm = stored.metadata;
    sm.uid = randomUUID();
    sm.creationTimestamp = now();
    sm.generation = 1;
    sm.resourceVersion = this.bump();
    delete sm['deletionTimestamp'];
    store.set(key, stored);
    this.record(rt, 'ADDED', stored);
    return this.present(rt, version, stored);
  }

  private commit(rt: ResourceType, version: string, old: Obj, nextIn: Obj, strict = false): Obj {
    const next = this.crdCheck(rt, version, nextIn, strict);
    if (sameIgnoringRV(old, next)) return this.present(rt, version, old); // no-op write
    if (specPart(old) !== specPart(next)) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    next.metadata.resourceVersion = this.bump();
    this.store.get(typeId(rt))?.set(this.key(rt, old.metadata.namespace, old.metadata.name), next);
    this.record(rt, 'MODIFIED', next, old);
    return this.present(rt, version, next);
  }

  updateObject(rt: ResourceType, version: string, ns: string | undefined, name: string, body: Record<string, unknown>, viaStatus: boolean, strict = false): Obj {
    const old = this.mustGet(rt, ns, name);
    const desired = body as Obj;
    const meta = isObj(desired.metadata) ? desired.metadata : undefined;
    if (meta?.name !== undefined && meta.name !== name) {
      throw new HttpError(400, 'BadRequest', `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    }
    const rv = meta?.resourceVersion;
    if (rv === undefined || rv === '') {
      if (rt.group === 'metallb.io') {
        throw this.invalid(rt, name, 'metadata.resourceVersion', 'Invalid value: 0x0: must be specified for an update');
      }
    } else if (rv !== old.metadata.resourceVersion) throw this.conflict(rt, name);
    if (meta?.uid !== undefined && meta.uid !== old.metadata.uid) {
      throw new HttpError(409, 'Conflict', `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${old.metadata.uid}`);
    }
    return this.commit(rt, version, old, mergeForWrite(rt, old, desired, viaStatus, this.opts), strict);
  }

  patchObject(rt: ResourceType, version: string, ns: string | undefined, name: string, contentType: string, text: string, viaStatus: boolean, strict = false): Obj {
    const old = this.mustGet(rt, ns, name);
    let patch: Json;
    try {
      patch = JSON.parse(text) as Json;
    } catch (e) {
      throw new HttpError(400, 'BadRequest', `the body of the request was in an unknown format: ${(e as Error).message}`);
    }
    const current = this.present(rt, version, old) as unknown as Json;
    let result: Json;
    try {
      switch (contentType) {
        case 'application/merge-patch+json':
          result = mergePatch(current, patch);
          break;
        case 'application/json-patch+json':
          result = jsonPatch(current, patch);
          break;
        case 'application/strategic-merge-patch+json':
          if (rt.group === 'metallb.io') {
            throw new HttpError(415, 'UnsupportedMediaType', 'strategic merge patch is not supported for custom resources');
          }
          result = strategicMergePatch(current, patch);
          break;
        default:
          throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got "${contentType}")`);
      }
    } catch (e) {
      if (e instanceof PatchError) {
        throw new HttpError(e.code, e.code === 422 ? 'Invalid' : 'BadRequest', `the server rejected our request due to an error in our request: ${e.message}`);
      }
      throw e;
    }
    if (!isObj(result) || !isObj(result['metadata'])) throw this.invalid(rt, name, 'metadata', 'Required value');
    const desired = result as unknown as Obj;
    if (desired.metadata.resourceVersion !== undefined && desired.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw this.conflict(rt, name);
    }
    if (desired.metadata.name !== name) throw this.invalid(rt, name, 'metadata.name', 'Invalid value: field is immutable');
    return this.commit(rt, version, old, mergeForWrite(rt, old, desired, viaStatus, this.opts), strict);
  }

  deleteObject(rt: ResourceType, version: string, ns: string | undefined, name: string, opts: Record<string, unknown> | undefined): Record<string, unknown> {
    const old = this.mustGet(rt, ns, name);
    const pre = opts && isObj(opts['preconditions']) ? opts['preconditions'] : undefined;
    if (pre) {
      if (pre['uid'] !== undefined && pre['uid'] !== old.metadata.uid) {
        throw new HttpError(409, 'Conflict', `Precondition failed: UID in precondition: ${String(pre['uid'])}, UID in object meta: ${old.metadata.uid}`);
      }
      if (pre['resourceVersion'] !== undefined && pre['resourceVersion'] !== old.metadata.resourceVersion) {
        throw this.conflict(rt, name);
      }
    }
    this.store.get(typeId(rt))?.delete(this.key(rt, ns, name));
    if (rt.group === '' && rt.kind === 'Service') releaseService(old, this.svcAlloc);
    const gone = clone(old);
    gone.metadata.resourceVersion = this.bump();
    this.record(rt, 'DELETED', gone, old);
    if (rt.kind === 'Namespace') {
      for (const t of RESOURCE_TYPES) {
        if (!t.namespaced) continue;
        for (const o of [...(this.store.get(typeId(t))?.values() ?? [])]) {
          if (o.metadata.namespace === name) this.deleteObject(t, t.versions[0] ?? 'v1', name, o.metadata.name, undefined);
        }
      }
    }
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: rt.group, kind: rt.plural, uid: old.metadata.uid },
    };
  }

  // ---- watch ----

  private writeEvent(w: Watcher, type: string, object: unknown): void {
    if (w.closed) return;
    w.res.write(JSON.stringify({ type, object }) + '\n');
  }

  private deliver(w: Watcher, ev: HistoryEvent): void {
    if (w.closed || ev.tid !== w.tid) return;
    const now = this.matches(ev.obj, w.namespace, w.labels, w.fields);
    const before = ev.old ? this.matches(ev.old, w.namespace, w.labels, w.fields) : false;
    const out = this.present(w.rt, w.version, ev.obj);
    if (ev.type === 'ADDED') {
      if (now) this.writeEvent(w, 'ADDED', out);
    } else if (ev.type === 'DELETED') {
      if (before) this.writeEvent(w, 'DELETED', out);
    } else if (now && before) this.writeEvent(w, 'MODIFIED', out);
    else if (now) this.writeEvent(w, 'ADDED', out);
    else if (before) this.writeEvent(w, 'DELETED', out);
  }

  private endWatch(w: Watcher): void {
    if (w.closed) return;
    w.closed = true;
    for (const t of w.timers) clearTimeout(t);
    this.watchers.delete(w);
    w.res.end();
  }

  private startWatch(
    rt: ResourceType,
    version: string,
    ns: string | undefined,
    labels: LabelReq[],
    fields: FieldReq[],
    q: URLSearchParams,
    res: http.ServerResponse,
  ): void {
    const rvParam = q.get('resourceVersion');
    let from: number | undefined;
    if (rvParam !== null && rvParam !== '' && rvParam !== '0') {
      if (!/^\d+$/.test(rvParam)) throw new HttpError(400, 'BadRequest', `invalid resource version "${rvParam}"`);
      from = Number(rvParam);
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // kube-apiserver answers at once, before the first event
    const w: Watcher = {
      tid: typeId(rt),
      rt,
      version,
      ...(ns !== undefined ? { namespace: ns } : {}),
      labels,
      fields,
      res,
      bookmarks: q.get('allowWatchBookmarks') === 'true',
      timers: [],
      closed: false,
    };
    res.on('close', () => this.endWatch(w));
    if (from !== undefined && from < this.floor) {
      this.writeEvent(w, 'ERROR', this.statusObject(new HttpError(410, 'Expired', `too old resource version: ${from} (${this.floor})`)));
      w.closed = true;
      res.end();
      return;
    }
    if (from === undefined) {
      for (const o of this.list(rt, version, ns, labels, fields).items as Obj[]) this.writeEvent(w, 'ADDED', o);
    } else {
      for (const ev of this.history) if (ev.rv > from) this.deliver(w, ev);
    }
    this.watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    if (timeout > 0) w.timers.push(setTimeout(() => this.endWatch(w), timeout * 1000));
    if (w.bookmarks) {
      const tick = (): void => {
        if (w.closed) return;
        this.writeEvent(w, 'BOOKMARK', {
          kind: rt.kind,
          apiVersion: apiVersionOf(rt.group, version),
          metadata: { resourceVersion: String(this.rv) },
        });
        w.timers = w.timers.filter((t) => t !== bookmarkTimer);
        bookmarkTimer = setTimeout(tick, this.bookmarkMs);
        w.timers.push(bookmarkTimer);
      };
      let bookmarkTimer = setTimeout(tick, this.bookmarkMs);
      w.timers.push(bookmarkTimer);
    }
  }
}
