import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthType, BfdState, encodeControl, type ControlPacket } from '../../../src/bfd/codec.ts';
import { demux, type MuxEntry } from '../../../src/bfd/mux.ts';

const single: MuxEntry = { localDiscr: 77, peerAddress: '10.0.0.1', multihop: false, minimumTtl: 254 };
const multi: MuxEntry = { localDiscr: 88, peerAddress: '2001:db8::1', multihop: true, minimumTtl: 250 };
const table = {
  byDiscr: (d: number) => [single, multi].find((e) => e.localDiscr === d),
  byPeer: (a: string, mh: boolean) => [single, multi].find((e) => e.peerAddress === a && e.multihop === mh),
};
const pkt = (over: Partial<ControlPacket> = {}): Buffer =>
  encodeControl({ diag: 0, state: BfdState.Up, poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscr: 5, yourDiscr: 77, desiredMinTx: 1e5, requiredMinRx: 1e5, requiredMinEchoRx: 0, ...over });

const why = (r: ReturnType<typeof demux>): string => (r.ok ? `ok:${r.entry.localDiscr}` : r.reason);

test('single hop: by your discriminator, or by source address while it is 0', () => {
  assert.equal(why(demux(pkt(), '10.0.0.1', 255, false, table)), 'ok:77');
  assert.equal(why(demux(pkt({ yourDiscr: 0, state: BfdState.Down }), '10.0.0.1', 255, false, table)), 'ok:77');
});

test('GTSM: single hop needs TTL 255, multi-hop needs minimumTtl', () => {
  assert.equal(why(demux(pkt(), '10.0.0.1', 254, false, table)), 'ttl');
  assert.equal(why(demux(pkt(), '10.0.0.1', 64, false, table)), 'ttl');
  assert.equal(why(demux(pkt(), '10.0.0.1', -1, false, table)), 'ttl', 'unknown TTL is not 255');
  assert.equal(why(demux(pkt({ yourDiscr: 88 }), '2001:db8::1', 250, true, table)), 'ok:88');
  assert.equal(why(demux(pkt({ yourDiscr: 88 }), '2001:db8::1', 249, true, table)), 'ttl');
});

test('wrong session: unknown discriminator, other hop mode, other source, no session', () => {
  assert.equal(why(demux(pkt({ yourDiscr: 99 }), '10.0.0.1', 255, false, table)), 'unknown-discriminator');
  assert.equal(why(demux(pkt({ yourDiscr: 88 }), '2001:db8::1', 255, false, table)), 'unknown-discriminator');
  assert.equal(why(demux(pkt(), '10.0.0.9', 255, false, table)), 'address-mismatch');
  assert.equal(why(demux(pkt({ yourDiscr: 0, state: BfdState.Down }), '10.0.0.9', 255, false, table)), 'no-session');
});

test('codec rejections and unexpected authentication become drop reasons', () => {
  const bad = pkt();
  bad[0] = 0x40;
  assert.equal(why(demux(bad, '10.0.0.1', 255, false, table)), 'version');
  assert.equal(why(demux(pkt({ detectMult: 1 }).fill(0, 2, 3), '10.0.0.1', 255, false, table)), 'detect-mult-zero');
  assert.equal(why(demux(pkt({ myDiscr: 0 }), '10.0.0.1', 255, false, table)), 'my-discriminator-zero');
  assert.equal(why(demux(pkt({ yourDiscr: 0 }), '10.0.0.1', 255, false, table)), 'your-discriminator-zero');
  assert.equal(why(demux(pkt({ auth: { type: AuthType.SimplePassword, keyId: 1, password: Buffer.from('x') } }), '10.0.0.1', 255, false, table)), 'auth-unexpected');
  assert.equal(why(demux(Buffer.from('hello'), '10.0.0.1', 255, false, table)), 'short');
});
