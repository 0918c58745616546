// MessageFramer: splitting a TCP byte stream into messages, header checks (RFC 4271 §6.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageFramer, encodeKeepalive, encodeNotification, encodeOpen, encodeRouteRefresh, encodeUpdate } from '../../../../src/bgp/codec/index.ts';
import type { FrameResult } from '../../../../src/bgp/codec/index.ts';
import { concat, hex, toHex } from './helpers.ts';

function drain(f: MessageFramer): FrameResult[] {
  const out: FrameResult[] = [];
  for (let r = f.next(); r !== undefined; r = f.next()) out.push(r);
  return out;
}

const MESSAGES = [
  encodeOpen({ version: 4, myAS: 65001, holdTime: 90, bgpId: 1, capabilities: [{ code: 1, kind: 'multiprotocol', afi: 1, safi: 1 }] }),
  encodeKeepalive(),
  encodeUpdate({ withdrawn: [], attributes: { origin: 0, asPath: [], nextHop: { family: 4, value: 0xc0000201n } }, nlri: [{ family: 4, network: 0xc6336400n, length: 24 }] }, { fourOctetAS: true }),
  encodeRouteRefresh(2, 1),
  encodeNotification(6, 2),
];
const STREAM = concat(...MESSAGES);

function checkFrames(frames: FrameResult[]): void {
  assert.equal(frames.length, MESSAGES.length);
  frames.forEach((fr, i) => {
    assert.equal(fr.kind, 'frame');
    if (fr.kind !== 'frame') return;
    assert.equal(toHex(fr.raw), toHex(MESSAGES[i]!));
    assert.equal(fr.type, MESSAGES[i]![18]);
    assert.equal(toHex(fr.body), toHex(MESSAGES[i]!.subarray(19)));
  });
}

test('coalesced: several messages in one chunk', () => {
  const f = new MessageFramer();
  f.push(STREAM);
  checkFrames(drain(f));
  assert.equal(f.buffered, 0);
});

test('chunked: one byte at a time, and every split point of the stream', () => {
  const f = new MessageFramer();
  const frames: FrameResult[] = [];
  for (const b of STREAM) {
    f.push(Uint8Array.of(b));
    frames.push(...drain(f));
  }
  checkFrames(frames);
  for (let cut = 1; cut < STREAM.length; cut += 7) {
    const g = new MessageFramer();
    g.push(STREAM.subarray(0, cut));
    const got = drain(g);
    g.push(STREAM.subarray(cut));
    got.push(...drain(g));
    checkFrames(got);
  }
});

test('frames stay valid after the framer reuses its buffer', () => {
  const f = new MessageFramer();
  f.push(encodeKeepalive());
  const first = f.next();
  f.push(encodeNotification(6, 4));
  f.next();
  assert.ok(first && first.kind === 'frame');
  assert.equal(toHex(first.raw), toHex(encodeKeepalive()));
});

test('a large stream grows the buffer', () => {
  const big = encodeUpdate({ withdrawn: [], attributes: { communities: Array.from({ length: 1000 }, (_, i) => i) }, nlri: [] }, { fourOctetAS: true });
  const f = new MessageFramer();
  f.push(concat(big, big, big));
  assert.equal(drain(f).length, 3);
});

function headerError(bytes: Uint8Array): FrameResult | undefined {
  const f = new MessageFramer();
  f.push(bytes);
  return f.next();
}

function expectError(r: FrameResult | undefined, subcode: number, data: string): void {
  assert.ok(r && r.kind === 'error', 'expected an error');
  assert.equal(r.notification.code, 1);
  assert.equal(r.notification.subcode, subcode, r.reason);
  assert.equal(toHex(r.notification.data), data);
}

test('bad marker → 1/1', () => {
  const m = encodeKeepalive();
  m[3] = 0xfe;
  expectError(headerError(m), 1, '');
});

test('bad length → 1/2 with the length as data', () => {
  const mk = (len: number, type: number): Uint8Array => concat(hex('ffffffffffffffffffffffffffffffff'), Uint8Array.of(len >> 8, len & 0xff, type), new Uint8Array(Math.max(0, len - 19)));
  expectError(headerError(mk(18, 4)), 2, '0012');
  expectError(headerError(mk(4097, 2)), 2, '1001');
  expectError(headerError(mk(20, 4)), 2, '0014'); // KEEPALIVE must be exactly 19
  expectError(headerError(mk(28, 1)), 2, '001c'); // OPEN minimum 29
  expectError(headerError(mk(22, 2)), 2, '0016'); // UPDATE minimum 23
  expectError(headerError(mk(20, 3)), 2, '0014'); // NOTIFICATION minimum 21
  expectError(headerError(mk(22, 5)), 2, '0016'); // ROUTE-REFRESH minimum 23
  // With RFC 8654 extended messages allowed, larger messages pass.
  const f = new MessageFramer({ maxMessageSize: 65535 });
  f.push(mk(5000, 2));
  assert.equal(f.next()?.kind, 'frame');
  const g = new MessageFramer();
  g.setMaxMessageSize(65535);
  g.push(mk(65535, 2));
  assert.equal(g.next()?.kind, 'frame');
});

test('bad type → 1/3 with the type as data', () => {
  expectError(headerError(concat(hex('ffffffffffffffffffffffffffffffff'), hex('0013 06'))), 3, '06');
  expectError(headerError(concat(hex('ffffffffffffffffffffffffffffffff'), hex('0013 00'))), 3, '00');
});

test('the error is reported once and the framer stays failed', () => {
  const f = new MessageFramer();
  f.push(encodeKeepalive());
  f.push(hex('00'.repeat(19)));
  assert.equal(f.next()?.kind, 'frame');
  assert.equal(f.next()?.kind, 'error');
  assert.equal(f.failed, true);
  assert.equal(f.buffered, 0);
  f.push(encodeKeepalive());
  assert.equal(f.next(), undefined);
});

test('an incomplete header or body waits for more bytes', () => {
  const f = new MessageFramer();
  f.push(encodeKeepalive().subarray(0, 18));
  assert.equal(f.next(), undefined);
  const u = MESSAGES[2]!;
  const g = new MessageFramer();
  g.push(u.subarray(0, u.length - 1));
  assert.equal(g.next(), undefined);
  g.push(u.subarray(u.length - 1));
  assert.equal(g.next()?.kind, 'frame');
});
