// Runs the `metallb-ts` command for the CLI tests, two ways:
//  - runCli: in this process, through the same `main(argv)` that bin/metallb-ts.js calls, with
//    the text it writes to stdout/stderr captured (fast: no Node/tsx start per call);
//  - runCliProcess: as a real process (bin/metallb-ts.js on the TypeScript sources), the way a
//    user does; kept for a few smoke tests of the real entry point (exit status, streams).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.ts';

export const REPO_ROOT = join(import.meta.dirname, '../../..');
export const BIN = join(REPO_ROOT, 'bin/metallb-ts.js');

export interface CliResult {
  /** Exit status (null if killed, e.g. by the 60 s timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

type Write = typeof process.stdout.write;

/**
 * `metallb-ts ARGS...` in-process: the exit code main() returns and the text it wrote.
 * Only string writes are captured: the test runner's own reporter stream (which writes
 * serialized Buffers to stdout in a `--test` child) passes through untouched.
 * Relative paths are resolved against the repository root, as for the real process.
 */
export async function runCli(...args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  const capture = (sink: string[], real: Write, stream: NodeJS.WriteStream): Write =>
    function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
      if (typeof chunk === 'string') {
        sink.push(chunk);
        const cb = rest.find((r): r is () => void => typeof r === 'function');
        if (cb) queueMicrotask(cb);
        return true;
      }
      return (real as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    } as Write;
  const cwd = process.cwd();
  if (cwd !== REPO_ROOT) process.chdir(REPO_ROOT);
  process.stdout.write = capture(out, realOut, process.stdout);
  process.stderr.write = capture(err, realErr, process.stderr);
  let code: number | null;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    if (cwd !== REPO_ROOT) process.chdir(cwd);
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** `metallb-ts ARGS...` as a real process from the repository root; waits for it to exit (60 s at most). */
export function runCliProcess(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, METALLB_TS_FROM_SOURCE: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
