// Where the API server is and how to authenticate to it, read from a kubeconfig or the in-cluster
// service account. The common cases — a bearer token, a token file (re-read every minute, as
// client-go does), client certificates, basic auth, a CA, insecure-skip-tls-verify and
// tls-server-name — are read here. Everything else (exec credential plugins, auth-provider
// entries, proxy-url, fields we do not know) goes through @kubernetes/client-node's KubeConfig,
// which is loaded only then: importing it costs ~70 MB of RSS (its generated API models), more
// than a controller's whole cache of 10,000 Services.
// Relative paths in a kubeconfig are relative to the file; several $KUBECONFIG files are merged
// as kubectl does (the first file that sets a value wins).

import { existsSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface LoadOptions {
  kubeconfig?: string;
  /** Force in-cluster (service account) configuration. */
  inCluster?: boolean;
}

/** What one request needs: headers (Authorization), basic auth, and TLS agent options or an agent. */
export interface RequestAuth {
  headers: Record<string, string>;
  auth?: string;
  /** TLS options for a keep-alive agent (empty for plain HTTP). */
  tls?: https.AgentOptions;
  /** An agent to use as it is (a proxy agent from client-node). */
  agent?: http.Agent;
}

export interface Credentials {
  /** The API server URL, no trailing slash. */
  readonly server: string;
  /** How they were obtained, for logs: `kubeconfig FILE`, `in-cluster`, `client-node`. */
  readonly source: string;
  forRequest(): Promise<RequestAuth>;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_REREAD_MS = 60000;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const CLUSTER_KEYS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions', 'disable-compression']);
const USER_KEYS = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'username', 'password', 'extensions']);

interface Named {
  name: string;
  body: Rec;
  /** Directory of the file it came from (relative paths). */
  dir: string;
}

interface Merged {
  current?: string;
  contexts: Map<string, Named>;
  clusters: Map<string, Named>;
  users: Map<string, Named>;
}

function readYaml(file: string): Rec {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot load kubeconfig ${file}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isRec(doc)) throw new Error(`cannot load kubeconfig ${file}: not a kubeconfig (a YAML mapping is expected)`);
  return doc;
}

/** kubectl's merge: the first file that names an entry (or sets current-context) wins. */
function merge(files: string[]): Merged {
  const m: Merged = { contexts: new Map(), clusters: new Map(), users: new Map() };
  for (const file of files) {
    const doc = readYaml(file);
    const dir = dirname(file);
    if (m.current === undefined) m.current = str(doc['current-context']);
    for (const [list, inner, into] of [['contexts', 'context', m.contexts], ['clusters', 'cluster', m.clusters], ['users', 'user', m.users]] as const) {
      const entries = doc[list];
      if (!Array.isArray(entries)) continue;
      for (const e of entries) {
        const name = isRec(e) ? str(e['name']) : undefined;
        if (!name || into.has(name)) continue;
        const body = isRec(e) && isRec(e[inner]) ? e[inner] : {};
        into.set(name, { name, body, dir });
      }
    }
  }
  return m;
}

function fileOrData(dir: string, file: unknown, data: unknown): Buffer | undefined {
  const d = str(data);
  if (d) return Buffer.from(d, 'base64');
  const f = str(file);
  if (!f) return undefined;
  return readFileSync(isAbsolute(f) ? f : join(dir, f));
}

/** Re-reads a token file at most once a minute (a projected service-account token rotates). */
function tokenFileReader(path: string, now: () => number): () => string {
  let token = '';
  let read = -Infinity;
  return () => {
    if (now() - read > TOKEN_REREAD_MS) {
      token = readFileSync(path, 'utf8').trim();
      read = now();
    }
    return token;
  };
}

class LeanCredentials implements Credentials {
  constructor(
    readonly server: string,
    readonly source: string,
    private readonly tls: https.AgentOptions,
    private readonly token?: () => string,
    private readonly basic?: string,
  ) {}

  forRequest(): Promise<RequestAuth> {
    const headers: Record<string, string> = {};
    const t = this.token?.();
    if (t) headers['authorization'] = `Bearer ${t}`;
    return Promise.resolve({ headers, tls: this.tls, ...(this.basic ? { auth: this.basic } : {}) });
  }
}

/** client-node's KubeConfig, imported on first use (exec plugins, auth providers, proxies). */
class ClientNodeCredentials implements Credentials {
  readonly source = 'client-node';
  private kc?: Promise<{ applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }>;

  constructor(
    readonly server: string,
    private readonly load: LoadOptions,
  ) {}

  private config(): Promise<{ applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }> {
    this.kc ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      if (this.load.kubeconfig) kc.loadFromFile(this.load.kubeconfig);
      else kc.loadFromDefault();
      return kc;
    });
    return this.kc;
  }

  async forRequest(): Promise<RequestAuth> {
    const ro: https.RequestOptions = {};
    await (await this.config()).applyToHTTPSOptions(ro);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ro.headers ?? {})) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const out: RequestAuth = { headers, ...(typeof ro.auth === 'string' ? { auth: ro.auth } : {}) };
    // client-node makes a plain agent per request: we keep its TLS options (for one kept-alive
    // agent); a proxy agent is used as given
    const a = typeof ro.agent === 'object' ? ro.agent : undefined;
    if (a && a.constructor.name !== 'Agent') out.agent = a;
    else out.tls = a ? ((a as unknown as { options?: https.AgentOptions }).options ?? {}) : {};
    return out;
  }
}

function fromMerged(m: Merged, source: string, load: LoadOptions, now: () => number): Credentials {
  if (!m.current) throw new Error(`${source}: no current-context`);
  const ctx = m.contexts.get(m.current);
  if (!ctx) throw new Error(`${source}: current-context "${m.current}" is not defined`);
  const clusterName = str(ctx.body['cluster']);
  const cluster = clusterName ? m.clusters.get(clusterName) : undefined;
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const server = str(cluster.body['server'])?.replace(/\/+$/, '');
  if (!server) throw new Error(`${source}: cluster "${cluster.name}" has no server`);
  const userName = str(ctx.body['user']);
  const user = userName ? m.users.get(userName) : undefined;
  const ub = user?.body ?? {};
  const simple = Object.keys(cluster.body).every((k) => CLUSTER_KEYS.has(k)) && Object.keys(ub).every((k) => USER_KEYS.has(k));
  if (!simple) return new ClientNodeCredentials(server, load);
  const insecure = cluster.body['insecure-skip-tls-verify'] === true;
  if (server.startsWith('http:') && !insecure) throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
  const tls: https.AgentOptions = {};
  const ca = fileOrData(cluster.dir, cluster.body['certificate-authority'], cluster.body['certificate-authority-data']);
  if (ca) tls.ca = ca;
  if (insecure) tls.rejectUnauthorized = false;
  const sni = str(cluster.body['tls-server-name']);
  if (sni) tls.servername = sni;
  const dir = user?.dir ?? cluster.dir;
  const cert = fileOrData(dir, ub['client-certificate'], ub['client-certificate-data']);
  const key = fileOrData(dir, ub['client-key'], ub['client-key-data']);
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  const token = str(ub['token']);
  const tokenFile = str(ub['tokenFile']);
  const reader = token ? () => token : tokenFile ? tokenFileReader(isAbsolute(tokenFile) ? tokenFile : join(dir, tokenFile), now) : undefined;
  const username = str(ub['username']);
  const basic = username ? `${username}:${str(ub['password']) ?? ''}` : undefined;
  return new LeanCredentials(server, source, tls, reader, basic);
}

/** The in-cluster service account: KUBERNETES_SERVICE_HOST/PORT, its token file and CA. */
function inCluster(now: () => number, saDir = SA_DIR): Credentials {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error('not running in a cluster: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT are not set');
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const tls: https.AgentOptions = {};
  const caFile = join(saDir, 'ca.crt');
  if (existsSync(caFile)) tls.ca = readFileSync(caFile);
  return new LeanCredentials(server, 'in-cluster', tls, tokenFileReader(join(saDir, 'token'), now));
}

/**
 * Credentials from `--kubeconfig FILE`, else $KUBECONFIG, else the in-cluster service account
 * when running in a pod, else ~/.kube/config. Throws a precise error when none is usable.
 */
export function loadCredentials(opts: LoadOptions = {}, now: () => number = Date.now): Credentials {
  if (opts.kubeconfig) return fromMerged(merge([opts.kubeconfig]), `kubeconfig ${opts.kubeconfig}`, opts, now);
  const env = process.env['KUBECONFIG'];
  if (opts.inCluster || (process.env['KUBERNETES_SERVICE_HOST'] && !env)) return inCluster(now);
  const files = env ? env.split(delimiter).filter((f) => f !== '' && existsSync(f)) : [join(homedir(), '.kube', 'config')].filter((f) => existsSync(f));
  if (files.length === 0) {
    throw new Error('no kubeconfig: give --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run in a pod (service account)');
  }
  return fromMerged(merge(files), `kubeconfig ${files.join(delimiter)}`, opts, now);
}
