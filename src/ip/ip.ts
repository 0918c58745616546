// Strict IPv4/IPv6 address, prefix and range library.
//
// Addresses are plain immutable values `{ family, value }` where `value` is the address as an
// unsigned bigint (32 bits for IPv4, 128 for IPv6). Parsing is strict on purpose: `10.1`,
// `010.0.0.1`, `1.2.3.4.` and zone ids are rejected (off-the-shelf libraries accept some of
// those forms and would turn a typo into a real announcement). Formatting is canonical:
// dotted quad for IPv4, RFC 5952 for IPv6.

export type Family = 4 | 6;

export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

/** A prefix with its host bits cleared: `network` is the first address. */
export interface Prefix {
  readonly family: Family;
  readonly network: bigint;
  readonly length: number;
}

/** An inclusive range of addresses of one family (`first <= last`). */
export interface IPRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

export class IPParseError extends Error {
  readonly code = 'ERR_IP_PARSE';
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
    this.name = 'IPParseError';
  }
}

export function bits(family: Family): number {
  return family === 4 ? 32 : 128;
}

const MAX: Record<Family, bigint> = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n };

export function maxValue(family: Family): bigint {
  return MAX[family];
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseV4Number(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return undefined;
    if (p.length > 1 && p.charCodeAt(0) === 48 /* '0' */) return undefined; // no octal-looking forms
    let v = 0;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      v = v * 10 + c;
    }
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

function parseV6Value(s: string): bigint | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  let head = s;
  let v4tail: number | undefined;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  if (s.indexOf('.', lastColon) >= 0) {
    v4tail = parseV4Number(s.slice(lastColon + 1));
    if (v4tail === undefined) return undefined;
    head = s.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::" ; "1::1.2.3.4" leaves "1::" ; "1:2:3:4:5:6:1.2.3.4" leaves "1:2:3:4:5:6:"
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = v4tail === undefined ? 8 : 6;
  const dbl = head.indexOf('::');
  if (dbl >= 0 && head.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.length === 0 || g.length > 4) return undefined;
      let v = 0;
      for (let i = 0; i < g.length; i++) {
        const c = g.charCodeAt(i);
        let d: number;
        if (c >= 48 && c <= 57) d = c - 48;
        else if (c >= 97 && c <= 102) d = c - 87;
        else if (c >= 65 && c <= 70) d = c - 55;
        else return undefined;
        v = v * 16 + d;
      }
      out.push(v);
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (!left || !right) return undefined;
    const fill = groupsWanted - left.length - right.length;
    if (fill < 1) return undefined; // "::" must stand for at least one group
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== groupsWanted) return undefined;
    groups = all;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  if (v4tail !== undefined) value = (value << 32n) | BigInt(v4tail);
  return value;
}

/** Parses an address; returns undefined when it is not a strict IPv4 or IPv6 address. */
export function tryParseIP(s: string): IP | undefined {
  if (s.includes(':')) {
    const v = parseV6Value(s);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const n = parseV4Number(s);
  return n === undefined ? undefined : { family: 4, value: BigInt(n) };
}

export function parseIP(s: string): IP {
  const ip = tryParseIP(s);
  if (!ip) throw new IPParseError(s, `invalid IP address "${s}"`);
  return ip;
}

/** Canonical text of an address, or undefined when it does not parse. */
export function canonicalIP(s: string): string | undefined {
  const ip = tryParseIP(s);
  return ip ? formatIP(ip) : undefined;
}

export function isIP(s: string): boolean {
  return tryParseIP(s) !== undefined;
}

/** An IPv6 link-local address (fe80::/10). */
export function isLinkLocal(ip: IP): boolean {
  return ip.family === 6 && ip.value >> 118n === 0x3fan;
}

export function makeIP(family: Family, value: bigint): IP {
  if (value < 0n || value > MAX[family]) throw new RangeError(`value out of range for IPv${family}`);
  return { family, value };
}

// ---------------------------------------------------------------------------------------------
// Formatting

export function formatIP(ip: IP): string {
  return formatValue(ip.family, ip.value);
}

export function formatValue(family: Family, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const groups: number[] = new Array<number>(8);
  let v = value;
  for (let i = 7; i >= 0; i--) {
    groups[i] = Number(v & 0xffffn);
    v >>= 16n;
  }
  // IPv4-mapped (::ffff:a.b.c.d) keeps its mixed notation (RFC 5952 §5).
  if (value >> 32n === 0xffffn) {
    return `::ffff:${formatValue(4, value & 0xffffffffn)}`;
  }
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number | undefined): string => (g ?? 0).toString(16);
  if (bestLen < 2) return groups.map(hex).join(':');
  const left = groups.slice(0, bestStart).map(hex).join(':');
  const right = groups
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${left}::${right}`;
}

export function formatPrefix(p: Prefix): string {
  return `${formatValue(p.family, p.network)}/${p.length}`;
}

export function formatRange(r: IPRange): string {
  return `${formatValue(r.family, r.first)}-${formatValue(r.family, r.last)}`;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export function compareIP(a: IP, b: IP): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export function ipEquals(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

export function comparePrefix(a: Prefix, b: Prefix): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------
// Prefixes

export function mask(family: Family, length: number): bigint {
  const total = bits(family);
  if (length === 0) return 0n;
  return (MAX[family] >> BigInt(total - length)) << BigInt(total - length);
}

/** Makes a prefix from any address inside it (host bits are cleared). */
export function makePrefix(family: Family, value: bigint, length: number): Prefix {
  if (!Number.isInteger(length) || length < 0 || length > bits(family)) {
    throw new RangeError(`prefix length ${length} out of range for IPv${family}`);
  }
  return { family, network: value & mask(family, length), length };
}

export interface ParsedCIDR {
  /** The address as written (host bits kept). */
  readonly address: IP;
  /** The covering prefix (host bits cleared). */
  readonly prefix: Prefix;
}

/** Parses `addr/len`. Host bits are allowed (as in Go's net.ParseCIDR); see `prefix` vs `address`. */
export function tryParseCIDR(s: string): ParsedCIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0 || slash !== s.lastIndexOf('/')) return undefined;
  const ip = tryParseIP(s.slice(0, slash));
  const lenStr = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(lenStr)) return undefined;
  const len = Number(lenStr);
  if (len > bits(ip.family)) return undefined;
  return { address: ip, prefix: makePrefix(ip.family, ip.value, len) };
}

export function parseCIDR(s: string): ParsedCIDR {
  const c = tryParseCIDR(s);
  if (!c) throw new IPParseError(s, `invalid CIDR "${s}"`);
  return c;
}

/** Parses a prefix; host bits are cleared. */
export function parsePrefix(s: string): Prefix {
  return parseCIDR(s).prefix;
}

export function prefixFirst(p: Prefix): bigint {
  return p.network;
}

export function prefixLast(p: Prefix): bigint {
  return p.network | (MAX[p.family] ^ mask(p.family, p.length));
}

export function prefixToRange(p: Prefix): IPRange {
  return { family: p.family, first: prefixFirst(p), last: prefixLast(p) };
}

export function prefixContains(p: Prefix, ip: IP): boolean {
  return p.family === ip.family && (ip.value & mask(p.family, p.length)) === p.network;
}

/** Aggregates an address to the prefix of the given length that contains it. */
export function aggregate(ip: IP, length: number): Prefix {
  return makePrefix(ip.family, ip.value, length);
}

/** The prefix for a single host (/32 or /128). */
export function hostPrefix(ip: IP): Prefix {
  return { family: ip.family, network: ip.value, length: bits(ip.family) };
}

// ---------------------------------------------------------------------------------------------
// Ranges

/**
 * Parses a pool entry: a CIDR (`10.0.0.0/24`, host bits allowed) or a range `a-b` of one family.
 * Returns an error message instead of throwing, for the config validator.
 */
export function parseRangeOrCIDR(s: string): IPRange | string {
  const t = s.trim();
  // Like MetalLB (Go's net.ParseCIDR): spaces around the entry are an error, not trimmed away.
  if (t !== s) return `"${s}" has spaces around it; write "${t}"`;
  if (t.includes('/')) {
    const c = tryParseCIDR(t);
    if (!c) return `invalid CIDR "${s}"`;
    return prefixToRange(c.prefix);
  }
  const dash = t.indexOf('-');
  if (dash < 0) {
    // Like MetalLB: a single address is no CIDR; say how to write it.
    const ip = tryParseIP(t);
    if (ip) return `invalid CIDR "${s}": a single address needs a prefix length; write ${t}/${bits(ip.family)}`;
    return `invalid address, CIDR or range "${s}"`;
  }
  const a = tryParseIP(t.slice(0, dash).trim());
  const b = tryParseIP(t.slice(dash + 1).trim());
  if (!a) return `invalid range start in "${s}"`;
  if (!b) return `invalid range end in "${s}"`;
  if (a.family !== b.family) return `range "${s}" mixes IPv4 and IPv6`;
  if (a.value > b.value) return `range "${s}": start is after end`;
  return { family: a.family, first: a.value, last: b.value };
}

export function rangeSize(r: IPRange): bigint {
  return r.last - r.first + 1n;
}

export function rangeContains(r: IPRange, ip: IP): boolean {
  return r.family === ip.family && ip.value >= r.first && ip.value <= r.last;
}

export function rangeContainsValue(r: IPRange, family: Family, value: bigint): boolean {
  return r.family === family && value >= r.first && value <= r.last;
}

export function rangesOverlap(a: IPRange, b: IPRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** Lazily iterates the addresses of a range; memory use is constant whatever its size. */
export function* iterateRange(r: IPRange, limit?: bigint): Generator<IP> {
  let n = 0n;
  for (let v = r.first; v <= r.last; v++) {
    if (limit !== undefined && n++ >= limit) return;
    yield { family: r.family, value: v };
  }
}

/** Decomposes a range into the minimal list of CIDR prefixes covering exactly it. */
export function rangeToPrefixes(r: IPRange): Prefix[] {
  const out: Prefix[] = [];
  const total = bits(r.family);
  let cur = r.first;
  while (cur <= r.last) {
    // largest block aligned at cur that does not pass r.last
    let len = total;
    while (len > 0) {
      const candidate = len - 1;
      const size = 1n << BigInt(total - candidate);
      if ((cur & (size - 1n)) !== 0n) break;
      if (cur + size - 1n > r.last) break;
      len = candidate;
    }
    out.push({ family: r.family, network: cur, length: len });
    cur += 1n << BigInt(total - len);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bytes

export function ipToBytes(ip: IP): Uint8Array {
  const n = ip.family === 4 ? 4 : 16;
  const out = new Uint8Array(n);
  let v = ip.value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function ipFromBytes(bytes: Uint8Array): IP {
  if (bytes.length !== 4 && bytes.length !== 16) throw new RangeError('address must be 4 or 16 bytes');
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 4 : 6, value: v };
}
