// Runs the `metallb-ts` command as a real process (bin/metallb-ts.js on the TypeScript sources),
// the way a user does, for the CLI tests.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '../../..');
export const BIN = join(REPO_ROOT, 'bin/metallb-ts.js');

export interface CliResult {
  /** Exit status (null if killed, e.g. by the 60 s timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `metallb-ts ARGS...` from the repository root; waits for it to exit (60 s at most). */
export function runCli(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, METALLB_TS_FROM_SOURCE: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
