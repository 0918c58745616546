// Process helpers for integration tests: synchronous command runs with precise errors, and
// long-running processes tracked by PID so that tests stop exactly what they started.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (no shell). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 15000, input: opts.input });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Runs a command and throws with its output when it fails. */
export function must(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Async variant (does not block the event loop while a CLI answers). */
export function runAsync(cmd: string, args: string[], timeoutMs = 15000): Promise<RunResult> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', (e) => {
      clearTimeout(t);
      resolve({ status: null, stdout, stderr: stderr + String(e) });
    });
    c.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

export function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin', '/usr/lib/frr'])) {
    const p = `${dir}/${bin}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

export class Managed {
  readonly pid: number;
  private exited = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private readonly exitPromise: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    if (child.pid === undefined) throw new Error(`${name}: failed to start`);
    this.pid = child.pid;
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, sig) => {
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = sig;
        resolve();
      });
    });
  }

  alive(): boolean {
    return !this.exited;
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.exited) {
      try {
        process.kill(this.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  /** Waits for exit up to `ms`; returns true if it exited. */
  async waitExit(ms: number): Promise<boolean> {
    if (this.exited) return true;
    await Promise.race([this.exitPromise, new Promise((r) => setTimeout(r, ms))]);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Only this PID. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    this.signal('SIGTERM');
    if (await this.waitExit(graceMs)) return;
    this.signal('SIGKILL');
    await this.waitExit(2000);
  }
}

/** Starts a long-running process, stdout+stderr appended to `logFile`. */
export function startProcess(name: string, cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Managed {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return new Managed(name, child, logFile);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` every `intervalMs` until it returns a non-undefined value or `timeoutMs` passes. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20000, intervalMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await sleep(intervalMs);
  }
}

/**
 * For `after` hooks: stops each process in order (each by the handle its test recorded), then
 * runs `cleanup` (e.g. deleting the namespaces) also when a stop failed.
 */
export async function stopAll(procs: readonly ({ stop(): Promise<void> } | undefined)[], cleanup?: () => void): Promise<void> {
  try {
    for (const p of procs) await p?.stop();
  } finally {
    cleanup?.();
  }
}
