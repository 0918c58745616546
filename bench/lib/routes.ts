// Route sets used by the benchmarks: N host routes (/32) counting up from 198.18.0.0, the
// RFC 2544 benchmarking range (198.18.0.0/15 = 131072 addresses).

import { formatIP, makeIP, parseIP } from '../../src/ip/index.ts';

export const BENCH_BASE = '198.18.0.0';
export const MAX_ROUTES = 131072;

/** The i-th benchmark host address (0-based). */
export function hostAddr(i: number, base = BENCH_BASE): string {
  const b = parseIP(base);
  return formatIP(makeIP(b.family, b.value + BigInt(i)));
}

/** The first n benchmark host addresses, as strings. */
export function hostRoutes(n: number, base = BENCH_BASE): string[] {
  if (n > MAX_ROUTES) throw new RangeError(`at most ${MAX_ROUTES} benchmark routes (198.18.0.0/15), got ${n}`);
  const b = parseIP(base);
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = formatIP(makeIP(b.family, b.value + BigInt(i)));
  return out;
}

/** The last address of the first n benchmark host addresses (the pool's end). */
export function lastHost(n: number, base = BENCH_BASE): string {
  return hostAddr(Math.max(0, n - 1), base);
}
