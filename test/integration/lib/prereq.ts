// Prerequisite checks: integration tests skip with a reason on a laptop, but under CI=true a
// missing prerequisite is a failure.

import type { TestContext } from 'node:test';
import { which } from './proc.ts';

export const IN_CI = process.env.CI === 'true';

/** Returns the reason tests cannot run here, or undefined. */
export function missing(bins: string[], needRoot = true): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (needRoot && process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const absent = bins.filter((b) => !which(b));
  if (absent.length > 0) return `missing binaries: ${absent.join(', ')}`;
  return undefined;
}

/**
 * Call at the top of a test (or in `before` through a flag): returns true when the test should
 * run; otherwise skips it (laptop) or throws (CI).
 */
export function requirePrereqs(t: TestContext, bins: string[], needRoot = true): boolean {
  return runnable(t, missing(bins, needRoot));
}

/**
 * Same as requirePrereqs for a reason computed once per suite (`missing(...)`): true when
 * `why` is undefined; otherwise skips the test (laptop) or throws (CI).
 */
export function runnable(t: TestContext, why: string | undefined): boolean {
  if (!why) return true;
  if (IN_CI) throw new Error(`prerequisite missing under CI: ${why}`);
  t.skip(why);
  return false;
}
