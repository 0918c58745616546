// Test helpers for the BGP codec tests: hex ↔ bytes and hand-built message pieces.

/** Bytes from a hex string; spaces, newlines and `|` separators are ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex length: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const MARKER = 'ffffffffffffffffffffffffffffffff';

/** A whole message: marker + length + type + body. */
export function message(type: number, body: Uint8Array): Uint8Array {
  const len = 19 + body.length;
  return concat(hex(MARKER), Uint8Array.of(len >> 8, len & 0xff, type), body);
}

/** An UPDATE body from raw withdrawn routes, attribute list and NLRI bytes. */
export function updateBody(withdrawn: Uint8Array, attrs: Uint8Array, nlri: Uint8Array): Uint8Array {
  return concat(
    Uint8Array.of(withdrawn.length >> 8, withdrawn.length & 0xff),
    withdrawn,
    Uint8Array.of(attrs.length >> 8, attrs.length & 0xff),
    attrs,
    nlri,
  );
}

/** One path attribute (non-extended length unless `ext`). */
export function attr(flags: number, type: number, value: Uint8Array, ext = false): Uint8Array {
  if (ext) return concat(Uint8Array.of(flags | 0x10, type, value.length >> 8, value.length & 0xff), value);
  return concat(Uint8Array.of(flags, type, value.length), value);
}

// Valid mandatory attributes for IPv4 NLRI on a 4-octet session.
export const ORIGIN_IGP = hex('40 01 01 00');
export const AS_PATH_65001 = hex('40 02 06 02 01 0000fde9');
export const NEXT_HOP_192_0_2_1 = hex('40 03 04 c0000201');
export const MANDATORY = concat(ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_192_0_2_1);
/** 198.51.100.10/32 */
export const NLRI_ONE = hex('20 c633640a');
