// Byte readers of the BGP decoder (big-endian integers, NLRI prefix lists). Pure; never throw:
// reads past the end give 0 bytes (callers check lengths first).

import type { NLRI } from './messages.ts';

export function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

export function u32(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

export function bigAt(b: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[at + i] ?? 0);
  return v;
}

/**
 * Parses a sequence of prefixes in body[start, end). Host bits beyond the prefix length are
 * cleared (RFC 4271 §4.3: they are irrelevant). Returns an error string on a syntax error.
 */
export function parsePrefixes(b: Uint8Array, start: number, end: number, family: 4 | 6, out: NLRI[]): string | undefined {
  const width = family === 4 ? 32 : 128;
  let p = start;
  while (p < end) {
    const len = b[p] ?? 0;
    if (len > width) return `prefix length ${len} exceeds ${width}`;
    const n = (len + 7) >>> 3;
    if (p + 1 + n > end) return `prefix /${len} overruns its field`;
    let network: bigint;
    if (family === 4) {
      let v = 0;
      for (let i = 0; i < 4; i++) v = v * 256 + (i < n ? (b[p + 1 + i] ?? 0) : 0);
      if (len < 32) v = len === 0 ? 0 : v - (v % 2 ** (32 - len));
      network = BigInt(v);
    } else {
      let v = bigAt(b, p + 1, n) << BigInt(128 - n * 8);
      if (len < 128) v &= ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n);
      network = v;
    }
    out.push({ family, network, length: len });
    p += 1 + n;
  }
  return undefined;
}
