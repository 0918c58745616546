// Capture BGP traffic with tcpdump inside a benchmark namespace, and read the pcap back:
// TCP streams reassembled per direction, split into BGP messages, with the NLRI and
// withdrawn prefixes of every UPDATE (IPv4 classic fields and MP_REACH/MP_UNREACH).

import { readFileSync } from 'node:fs';
import { formatIP, ipFromBytes } from '../../src/ip/index.ts';
import { BenchError, startBg, tailFile, waitFor } from './proc.ts';
import type { BgProcess } from './proc.ts';

export const MSG_TYPES: Record<number, string> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'route-refresh' };

export interface BgpMessage {
  /** Capture timestamp, seconds since the epoch. */
  t: number;
  /** "SRC:PORT>DST:PORT". */
  dir: string;
  src: string;
  dst: string;
  type: string;
  /** Message length in bytes (header included). */
  length: number;
  /** UPDATE only: announced / withdrawn prefixes ("a.b.c.d/len" or "x::/len"). */
  announced?: string[];
  withdrawn?: string[];
}

export interface PcapSummary {
  messages: BgpMessage[];
  /** TCP sequence gaps seen (capture loss); non-zero makes counts a lower bound. */
  gaps: number;
}

function fmtV4(b: Uint8Array): string {
  return `${b[0] ?? 0}.${b[1] ?? 0}.${b[2] ?? 0}.${b[3] ?? 0}`;
}

function fmtV6(b: Uint8Array): string {
  return formatIP(ipFromBytes(Uint8Array.from(b.subarray(0, 16))));
}

/** Parses a run of prefixes (length byte + ceil(len/8) bytes) as in RFC 4271 NLRI fields. */
function prefixes(buf: Uint8Array, family: 4 | 6): string[] {
  const out: string[] = [];
  let i = 0;
  const size = family === 4 ? 4 : 16;
  while (i < buf.length) {
    const len = buf[i] ?? 0;
    const nb = (len + 7) >> 3;
    if (len > size * 8 || i + 1 + nb > buf.length) break;
    const a = new Uint8Array(size);
    a.set(buf.subarray(i + 1, i + 1 + nb));
    out.push(`${family === 4 ? fmtV4(a) : fmtV6(a)}/${len}`);
    i += 1 + nb;
  }
  return out;
}

function parseUpdate(m: Uint8Array, msg: BgpMessage): void {
  const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
  if (m.length < 23) return;
  const wl = dv.getUint16(19);
  const withdrawn = prefixes(m.subarray(21, 21 + wl), 4);
  const alOff = 21 + wl;
  if (alOff + 2 > m.length) return;
  const al = dv.getUint16(alOff);
  const attrs = m.subarray(alOff + 2, alOff + 2 + al);
  const announced = prefixes(m.subarray(alOff + 2 + al), 4);
  let i = 0;
  while (i + 3 <= attrs.length) {
    const flags = attrs[i] ?? 0;
    const type = attrs[i + 1] ?? 0;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? (((attrs[i + 2] ?? 0) << 8) | (attrs[i + 3] ?? 0)) : (attrs[i + 2] ?? 0);
    const vOff = i + (ext ? 4 : 3);
    const v = attrs.subarray(vOff, vOff + len);
    if ((type === 14 || type === 15) && v.length >= 3) {
      const afi = ((v[0] ?? 0) << 8) | (v[1] ?? 0);
      const fam: 4 | 6 | undefined = afi === 1 ? 4 : afi === 2 ? 6 : undefined;
      if (fam !== undefined && (v[2] ?? 0) === 1) {
        if (type === 14) {
          const nhl = v[3] ?? 0;
          announced.push(...prefixes(v.subarray(4 + nhl + 1), fam));
        } else {
          withdrawn.push(...prefixes(v.subarray(3), fam));
        }
      }
    }
    i = vOff + len;
  }
  msg.announced = announced;
  msg.withdrawn = withdrawn;
}

/** Reads a pcap (Ethernet or Linux cooked) and returns every BGP message on TCP port 179. */
export function readPcap(path: string): PcapSummary {
  const buf = readFileSync(path);
  if (buf.length < 24) return { messages: [], gaps: 0 };
  const magicLE = buf.readUInt32LE(0);
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const nano = magicLE === 0xa1b23c4d || magicLE === 0x4d3cb2a1;
  if (!le && !(magicLE === 0xd4c3b2a1 || magicLE === 0x4d3cb2a1)) throw new BenchError(`${path}: not a pcap file`);
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20);
  const messages: BgpMessage[] = [];
  const streams = new Map<string, { next: number; data: Buffer }>();
  let gaps = 0;
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const t = sec + frac / (nano ? 1e9 : 1e6);
    const d = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    let et: number;
    let p: Buffer;
    if (linktype === 1) {
      if (d.length < 14) continue;
      et = d.readUInt16BE(12);
      p = d.subarray(14);
      if (et === 0x8100 && d.length >= 18) {
        et = d.readUInt16BE(16);
        p = d.subarray(18);
      }
    } else if (linktype === 113) {
      if (d.length < 16) continue;
      et = d.readUInt16BE(14);
      p = d.subarray(16);
    } else continue;
    let src: string;
    let dst: string;
    let l4: Buffer;
    if (et === 0x0800) {
      if (p.length < 20 || p[9] !== 6) continue;
      const ihl = ((p[0] ?? 0) & 0xf) * 4;
      const tot = p.readUInt16BE(2);
      src = fmtV4(p.subarray(12, 16));
      dst = fmtV4(p.subarray(16, 20));
      l4 = p.subarray(ihl, tot);
    } else if (et === 0x86dd) {
      if (p.length < 40 || p[6] !== 6) continue;
      const plen = p.readUInt16BE(4);
      src = fmtV6(p.subarray(8, 24));
      dst = fmtV6(p.subarray(24, 40));
      l4 = p.subarray(40, 40 + plen);
    } else continue;
    if (l4.length < 20) continue;
    const sp = l4.readUInt16BE(0);
    const dp = l4.readUInt16BE(2);
    if (sp !== 179 && dp !== 179) continue;
    const seq = l4.readUInt32BE(4);
    const doff = ((l4[12] ?? 0) >> 4) * 4;
    const flags = l4[13] ?? 0;
    const key = `${src}:${sp}>${dst}:${dp}`;
    if (flags & 0x02) {
      streams.set(key, { next: (seq + 1) >>> 0, data: Buffer.alloc(0) });
      continue;
    }
    let pl = l4.subarray(doff);
    const st = streams.get(key);
    if (pl.length === 0 || !st) continue;
    const delta = (seq - st.next) >>> 0;
    if (delta > 0x7fffffff) {
      const skip = (st.next - seq) >>> 0;
      if (skip >= pl.length) continue;
      pl = pl.subarray(skip);
    } else if (delta !== 0) {
      gaps++;
      st.data = Buffer.alloc(0);
      st.next = seq;
    }
    st.next = (st.next + pl.length) >>> 0;
    let data = st.data.length > 0 ? Buffer.concat([st.data, pl]) : pl;
    let i = 0;
    while (data.length - i >= 19) {
      let sync = true;
      for (let k = 0; k < 16; k++) if (data[i + k] !== 0xff) sync = false;
      if (!sync) {
        gaps++;
        data = Buffer.alloc(0);
        i = 0;
        break;
      }
      const ln = data.readUInt16BE(i + 16);
      const typ = data[i + 18] ?? 0;
      if (ln < 19) {
        data = Buffer.alloc(0);
        i = 0;
        break;
      }
      if (data.length - i < ln) break;
      const msg: BgpMessage = { t, dir: key, src, dst, type: MSG_TYPES[typ] ?? String(typ), length: ln };
      if (typ === 2) parseUpdate(data.subarray(i, i + ln), msg);
      messages.push(msg);
      i += ln;
    }
    st.data = Buffer.from(data.subarray(i));
  }
  return { messages, gaps };
}

/** Time the session became Established as seen on the wire: the later of the first KEEPALIVEs
 * sent in each direction (the OPEN exchange is complete once both sides have confirmed it). */
export function establishedAt(msgs: BgpMessage[]): number | undefined {
  const firstKa = new Map<string, number>();
  for (const m of msgs) if (m.type === 'keepalive' && !firstKa.has(m.dir)) firstKa.set(m.dir, m.t);
  const ts = [...firstKa.values()].sort((a, b) => a - b);
  return ts.length >= 2 ? ts[1] : undefined;
}

export interface DirectionStats {
  updates: number;
  updateBytes: number;
  announced: number;
  withdrawn: number;
  /** UPDATEs carrying no prefix (End-of-RIB markers); included in `updates`. */
  endOfRib: number;
  /** First / last UPDATE that carried a prefix. */
  firstUpdate?: number;
  lastUpdate?: number;
}

/** UPDATE statistics for the messages sent from `src` (an address). */
export function updateStats(msgs: BgpMessage[], src: string): DirectionStats {
  const s: DirectionStats = { updates: 0, updateBytes: 0, announced: 0, withdrawn: 0, endOfRib: 0 };
  for (const m of msgs) {
    if (m.src !== src || m.type !== 'update') continue;
    s.updates++;
    s.updateBytes += m.length;
    s.announced += m.announced?.length ?? 0;
    s.withdrawn += m.withdrawn?.length ?? 0;
    const carried = (m.announced?.length ?? 0) + (m.withdrawn?.length ?? 0);
    if (carried === 0) {
      s.endOfRib++;
      continue;
    }
    s.firstUpdate ??= m.t;
    s.lastUpdate = m.t;
  }
  return s;
}

export interface Capture {
  file: string;
  proc: BgProcess;
  /** Stops tcpdump (after a short grace period so in-flight packets land) and parses the file. */
  stop(graceMs?: number): Promise<PcapSummary>;
}

/** Starts tcpdump on eth0 of `ns`, BGP only, writing `file`; resolves once it is listening. */
export async function startCapture(ns: string, file: string, logFile: string): Promise<Capture> {
  const proc = startBg(
    `tcpdump(${ns})`,
    'ip',
    ['netns', 'exec', ns, 'tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-B', '65536', '-s', '0', '-n', '-w', file, 'tcp port 179'],
    logFile,
  );
  await waitFor(
    'tcpdump to listen',
    async () => {
      if (proc.exited) throw new BenchError(`tcpdump exited: ${tailFile(logFile)}`);
      return tailFile(logFile).includes('listening on') ? true : undefined;
    },
    10000,
    20,
  );
  return {
    file,
    proc,
    stop: async (graceMs = 200) => {
      await new Promise((r) => setTimeout(r, graceMs));
      await proc.stop('SIGINT');
      return readPcap(file);
    },
  };
}
