// The benchmark's pcap reader: TCP reassembly across segments, BGP message split, UPDATE
// prefixes (classic IPv4 fields and MP_REACH/MP_UNREACH), Established detection and stats.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { establishedAt, readPcap, updateStats } from '../../../bench/lib/pcap.ts';

function bgp(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h.writeUInt8(type, 18);
  return Buffer.concat([h, body]);
}

function v4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

/** UPDATE withdrawing `wd` and announcing `nlri` (all /32), plus optional raw attributes. */
function update(wd: string[], nlri: string[], extraAttrs: Buffer = Buffer.alloc(0)): Buffer {
  const w = Buffer.concat(wd.map((p) => Buffer.concat([Buffer.from([32]), v4(p)])));
  const attrs = Buffer.concat([Buffer.from([0x40, 1, 1, 0]), Buffer.from([0x40, 2, 0]), Buffer.from([0x40, 3, 4]), v4('10.0.0.2'), extraAttrs]);
  const n = Buffer.concat(nlri.map((p) => Buffer.concat([Buffer.from([32]), v4(p)])));
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(w.length);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(attrs.length);
  return bgp(2, Buffer.concat([wl, w, al, attrs, n]));
}

class PcapWriter {
  private parts: Buffer[] = [];
  private seq = new Map<string, number>();
  constructor() {
    const gh = Buffer.alloc(24);
    gh.writeUInt32LE(0xa1b2c3d4, 0);
    gh.writeUInt16LE(2, 4);
    gh.writeUInt16LE(4, 6);
    gh.writeUInt32LE(65535, 16);
    gh.writeUInt32LE(1, 20); // Ethernet
    this.parts.push(gh);
  }
  packet(t: number, src: string, sp: number, dst: string, dp: number, flags: number, payload: Buffer): void {
    const key = `${src}:${sp}`;
    let seq = this.seq.get(key) ?? 1000;
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(sp, 0);
    tcp.writeUInt16BE(dp, 2);
    tcp.writeUInt32BE(seq, 4);
    tcp.writeUInt8(5 << 4, 12);
    tcp.writeUInt8(flags, 13);
    seq += flags & 0x02 ? 1 : payload.length;
    this.seq.set(key, seq);
    const ipH = Buffer.alloc(20);
    ipH.writeUInt8(0x45, 0);
    ipH.writeUInt16BE(20 + 20 + payload.length, 2);
    ipH.writeUInt8(64, 8);
    ipH.writeUInt8(6, 9);
    v4(src).copy(ipH, 12);
    v4(dst).copy(ipH, 16);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([eth, ipH, tcp, payload]);
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(Math.floor(t), 0);
    rh.writeUInt32LE(Math.round((t - Math.floor(t)) * 1e6), 4);
    rh.writeUInt32LE(frame.length, 8);
    rh.writeUInt32LE(frame.length, 12);
    this.parts.push(rh, frame);
  }
  /** Advances the sequence number as if `bytes` had been sent but not captured. */
  lose(src: string, sp: number, bytes: number): void {
    const key = `${src}:${sp}`;
    this.seq.set(key, (this.seq.get(key) ?? 1000) + bytes);
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

test('readPcap reassembles BGP messages and extracts UPDATE prefixes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const A = '10.0.0.2';
  const B = '10.0.0.1';
  const w = new PcapWriter();
  w.packet(100.0, A, 40000, B, 179, 0x02, Buffer.alloc(0)); // SYN
  w.packet(100.001, B, 179, A, 40000, 0x12, Buffer.alloc(0)); // SYN-ACK
  w.packet(100.01, A, 40000, B, 179, 0x18, bgp(1, Buffer.alloc(10)));
  w.packet(100.02, B, 179, A, 40000, 0x18, Buffer.concat([bgp(1, Buffer.alloc(10)), bgp(4, Buffer.alloc(0))]));
  w.packet(100.03, A, 40000, B, 179, 0x18, bgp(4, Buffer.alloc(0)));
  // one UPDATE split over two segments, then a withdraw, an MP_UNREACH (IPv6) and End-of-RIB
  const u1 = update([], ['198.18.0.1', '198.18.0.2', '198.18.0.3']);
  w.packet(100.04, A, 40000, B, 179, 0x18, u1.subarray(0, 25));
  w.packet(100.05, A, 40000, B, 179, 0x18, u1.subarray(25));
  const mpUnreach = Buffer.concat([Buffer.from([0x80, 15, 3 + 17, 0, 2, 1, 128]), Buffer.from('20010db8000000000000000000000001', 'hex')]);
  w.packet(100.06, A, 40000, B, 179, 0x18, Buffer.concat([update(['198.18.0.2'], []), update([], [], mpUnreach)]));
  w.packet(100.07, A, 40000, B, 179, 0x18, bgp(2, Buffer.from([0, 0, 0, 0])));
  const file = join(dir, 'x.pcap');
  writeFileSync(file, w.buffer());

  const { messages, gaps } = readPcap(file);
  assert.equal(gaps, 0);
  assert.deepEqual(
    messages.map((m) => `${m.src} ${m.type}`),
    [`${A} open`, `${B} open`, `${B} keepalive`, `${A} keepalive`, `${A} update`, `${A} update`, `${A} update`, `${A} update`],
  );
  const u = messages[4];
  assert.ok(u);
  assert.equal(u.t, 100.05); // complete when its second segment arrived
  assert.deepEqual(u.announced, ['198.18.0.1/32', '198.18.0.2/32', '198.18.0.3/32']);
  assert.deepEqual(messages[5]?.withdrawn, ['198.18.0.2/32']);
  assert.deepEqual(messages[6]?.withdrawn, ['2001:db8::1/128']);
  assert.equal(establishedAt(messages), 100.03);

  const st = updateStats(messages, A);
  assert.equal(st.updates, 4);
  assert.equal(st.announced, 3);
  assert.equal(st.withdrawn, 2);
  assert.equal(st.endOfRib, 1);
  assert.equal(st.firstUpdate, 100.05);
  assert.equal(st.lastUpdate, 100.06);
  assert.equal(st.updateBytes, messages.slice(4).reduce((a, m) => a + m.length, 0));
  assert.deepEqual(updateStats(messages, B).updates, 0);
});

test('readPcap rejects a file that is not a pcap and counts capture gaps', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.pcap');
  writeFileSync(bad, Buffer.alloc(64, 7));
  assert.throws(() => readPcap(bad), /not a pcap file/);

  const ka = bgp(4, Buffer.alloc(0));
  const w = new PcapWriter();
  w.packet(1, '10.0.0.2', 1, '10.0.0.1', 179, 0x02, Buffer.alloc(0));
  w.packet(2, '10.0.0.2', 1, '10.0.0.1', 179, 0x18, ka);
  w.lose('10.0.0.2', 1, 19); // a KEEPALIVE the capture missed
  w.packet(4, '10.0.0.2', 1, '10.0.0.1', 179, 0x18, ka);
  const file = join(dir, 'gap.pcap');
  writeFileSync(file, w.buffer());
  const r = readPcap(file);
  assert.equal(r.gaps, 1);
  assert.deepEqual(r.messages.map((m) => m.t), [2, 4]);
});
