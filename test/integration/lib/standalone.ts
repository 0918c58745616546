// Runs `metallb-ts standalone` as a real process inside a namespace and talks to it.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type { Managed } from './proc.ts';
import { runAsync, startProcess, waitFor } from './proc.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');

export interface StandaloneOptions {
  /** Namespace to run in; undefined = the current one (loopback tests). */
  ns?: string;
  /** Manifest folder (created). */
  manifests: string;
  statePath: string;
  node: string;
  nodeAddress: string;
  httpPort: number;
  logFile: string;
  extraArgs?: string[];
}

/** Writes a manifest atomically (temp name without a manifest extension, then rename). */
export function writeManifest(dir: string, name: string, text: string): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, name));
}

export function removeManifest(dir: string, name: string): void {
  rmSync(join(dir, name), { force: true });
}

export class StandaloneProcess {
  proc: Managed | undefined;
  constructor(readonly opts: StandaloneOptions) {
    mkdirSync(opts.manifests, { recursive: true });
  }

  get url(): string {
    return `http://127.0.0.1:${this.opts.httpPort}`;
  }

  start(): Managed {
    const o = this.opts;
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) env.METALLB_TS_FROM_SOURCE = '1';
    const args = [
      BIN, 'standalone',
      '-f', o.manifests, '--node', o.node, '--node-address', o.nodeAddress,
      '--state', o.statePath, '--http-listen', `127.0.0.1:${o.httpPort}`, '--log-level', 'debug',
      ...(o.extraArgs ?? []),
    ];
    this.proc = o.ns
      ? startProcess('metallb-ts standalone', 'ip', ['netns', 'exec', o.ns, process.execPath, ...args], o.logFile, env)
      : startProcess('metallb-ts standalone', process.execPath, args, o.logFile, env);
    return this.proc;
  }

  /** GET a path of the HTTP endpoint (inside the namespace, through a short node process). */
  async get(path: string): Promise<{ status: number; body: string }> {
    const script = `fetch(${JSON.stringify(this.url + path)}).then(async r=>{process.stdout.write(String(r.status)+"\\n"+await r.text())}).catch(e=>{process.stdout.write("0\\n"+e);})`;
    const cmd = this.opts.ns ? ['ip', 'netns', 'exec', this.opts.ns, process.execPath] : [process.execPath];
    const r = await runAsync(cmd[0] ?? 'ip', [...cmd.slice(1), '-e', script], 10000);
    const i = r.stdout.indexOf('\n');
    return { status: Number(r.stdout.slice(0, i)), body: r.stdout.slice(i + 1) };
  }

  async status(): Promise<StandaloneStatusView> {
    const r = await this.get('/status');
    if (r.status !== 200) throw new Error(`/status: HTTP ${r.status}: ${r.body}`);
    return JSON.parse(r.body) as StandaloneStatusView;
  }

  async waitReady(timeoutMs = 30000): Promise<void> {
    await waitFor('standalone /readyz', async () => ((await this.get('/readyz')).status === 200 ? true : undefined), timeoutMs, 150);
  }

  async stop(): Promise<void> {
    await this.proc?.stop(5000);
  }
}

export interface StandaloneStatusView {
  ready: boolean;
  stale: boolean;
  configErrors: string[];
  staleFiles?: { file: string; reason: string; effect: string }[];
  services: { namespace: string; name: string; ips: string[]; pool: string | null; error: string | null }[];
  sessions: {
    peer: string;
    routes: { prefix: string; nextHop: string | null; localPref: number | null; communities: string[]; largeCommunities: string[] }[];
    speaker: { state?: string; counters?: { updatesReceived?: number } } | null;
  }[];
}

/**
 * Rewrites the graceful restart marker a stopped process wrote (`STATE.restart`) so that every
 * session's restart time ends `seconds` from now: the next process keeps (adopts) the routes of
 * the previous run until then. Returns how many sessions the marker held.
 */
export function shortenRestartMarker(markerPath: string, seconds: number): number {
  const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as { stoppedAt: number; sessions: { restartTime: number }[] };
  for (const m of marker.sessions) m.restartTime = Math.ceil((Date.now() - marker.stoppedAt) / 1000) + seconds;
  writeFileSync(markerPath, JSON.stringify(marker));
  return marker.sessions.length;
}
