// Process helpers for the benchmarks: run a command, start a background process whose PID is
// recorded, a LIFO cleanup registry that also runs on Ctrl-C / SIGTERM / uncaught errors, and
// prerequisite checks (root, binaries).
//
// Every process a benchmark starts is stopped by the PID it recorded; nothing is killed by name.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Wall-clock time in seconds since the epoch, with sub-millisecond resolution. */
export function nowEpoch(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (asynchronously); never throws on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(e.message) });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Runs a command and throws a BenchError with its stderr when it fails. */
export async function runOk(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  checkAborted();
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new BenchError(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 800)}`);
  }
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// cleanup registry

type Cleanup = () => Promise<void> | void;
const cleanups: { name: string; fn: Cleanup }[] = [];
let signalsInstalled = false;
let cleaningRun: Promise<void> | undefined;
/** Cleanup steps started outside cleanupAll (by their owner) and still running. */
const inflight = new Set<Promise<void>>();
let aborted = false;

/** True once Ctrl-C / SIGTERM was received: nothing new may be started. */
export function isAborted(): boolean {
  return aborted;
}

/** Throws when the benchmark was interrupted. */
export function checkAborted(): void {
  if (aborted) throw new BenchError('interrupted');
}

/** Registers a cleanup step; returns a function that runs it now and unregisters it. */
export function onCleanup(name: string, fn: Cleanup): () => Promise<void> {
  const entry = { name, fn };
  cleanups.push(entry);
  installSignalHandlers();
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) {
      cleanups.splice(i, 1);
      const p = Promise.resolve().then(entry.fn);
      inflight.add(p);
      try {
        await p;
      } finally {
        inflight.delete(p);
      }
    }
  };
}

/** Runs every registered cleanup step, newest first. Errors are reported, not thrown.
 * Concurrent callers share the run in progress (and wait for it to finish). */
export function cleanupAll(): Promise<void> {
  if (cleaningRun) return cleaningRun;
  cleaningRun = (async () => {
    try {
      while (cleanups.length > 0) {
        const entry = cleanups.pop();
        if (!entry) break;
        if (process.env['MLBB_DEBUG']) process.stderr.write(`cleanup: ${entry.name}\n`);
        try {
          await entry.fn();
        } catch (e) {
          process.stderr.write(`cleanup ${entry.name}: ${e instanceof Error ? e.message : String(e)}\n`);
        }
      }
      // steps their owners started themselves must finish too (e.g. a namespace deletion)
      await Promise.allSettled([...inflight]);
    } finally {
      cleaningRun = undefined;
    }
  })();
  return cleaningRun;
}

function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  const onSignal = (sig: NodeJS.Signals): void => {
    aborted = true;
    process.stderr.write(`\n${sig}: stopping benchmark processes and deleting namespaces...\n`);
    void cleanupAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

// ---------------------------------------------------------------------------------------------
// background processes

export interface BgProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  exited: boolean;
  exitCode: number | null;
  /** Resolves when the process has exited. */
  done: Promise<void>;
  /** SIGTERM (or the given signal), wait up to `graceMs`, then SIGKILL; by recorded PID only. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Starts a background process with stdout+stderr going to `logFile`; registers its cleanup. */
export function startBg(name: string, cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): BgProcess {
  checkAborted();
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
  closeSync(fd);
  if (child.pid === undefined) throw new BenchError(`could not start ${name} (${cmd})`);
  const pid = child.pid;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const bg: BgProcess = {
    name,
    pid,
    child,
    logFile,
    exited: false,
    exitCode: null,
    done,
    stop: async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) => {
      if (bg.exited) return;
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        if (!bg.exited) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }, graceMs);
      await done;
      clearTimeout(t);
    },
  };
  child.on('exit', (code) => {
    bg.exited = true;
    bg.exitCode = code;
    resolveDone();
  });
  child.on('error', () => {
    bg.exited = true;
    resolveDone();
  });
  const entry = { name: `stop ${name} (pid ${pid})`, fn: () => bg.stop() };
  cleanups.push(entry);
  installSignalHandlers();
  void done.then(() => {
    // once it is gone there is nothing left to clean up
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  });
  return bg;
}

export function tailFile(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Polls `check` every `intervalMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    checkAborted();
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new BenchError(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// /proc

/** Peak resident set (VmHWM) and current RSS (VmRSS) of a process, in MB; undefined if gone. */
export function memOf(pid: number): { hwmMB: number; rssMB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    if (!hwm || !rss) return undefined;
    return { hwmMB: Number(hwm[1]) / 1024, rssMB: Number(rss[1]) / 1024 };
  } catch {
    return undefined;
  }
}

/** utime+stime of a process in clock ticks (USER_HZ = 100 on Linux). */
export function cpuTicksOf(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" of comm: state(3) ... utime(14) stime(15)
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return utime + stime;
  } catch {
    return undefined;
  }
}

export const CLK_TCK = 100;

// ---------------------------------------------------------------------------------------------
// prerequisites

export function haveBinary(name: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
  return r.status === 0;
}

/** Throws a BenchError listing what is missing (root, binaries). */
export function requirePrereqs(binaries: string[]): void {
  const problems: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    problems.push('must run as root (benchmarks create network namespaces)');
  }
  const missing = binaries.filter((b) => !haveBinary(b));
  if (missing.length > 0) {
    problems.push(`missing binaries: ${missing.join(', ')} (Debian: apt-get install bird2 gobgpd tcpdump iproute2)`);
  }
  if (problems.length > 0) throw new BenchError(`cannot run benchmarks: ${problems.join('; ')}`);
}
