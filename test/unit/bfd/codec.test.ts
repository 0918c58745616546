import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AuthType, BfdDecodeError, BfdDiag, BfdState, decodeControl, encodeControl, type ControlPacket } from '../../../src/bfd/codec.ts';

const base: ControlPacket = {
  diag: BfdDiag.None,
  state: BfdState.Up,
  poll: false,
  final: false,
  cpi: false,
  demand: false,
  detectMult: 3,
  myDiscr: 0x11223344,
  yourDiscr: 0x55667788,
  desiredMinTx: 100_000,
  requiredMinRx: 100_000,
  requiredMinEchoRx: 0,
};

function reason(b: Buffer): string {
  try {
    decodeControl(b);
  } catch (e) {
    assert.ok(e instanceof BfdDecodeError, String(e));
    return e.reason;
  }
  return 'ok';
}

test('encodes the RFC 5880 §4.1 layout byte by byte', () => {
  const b = encodeControl({ ...base, diag: BfdDiag.ControlDetectionExpired, state: BfdState.Init, poll: true });
  assert.deepEqual([...b.subarray(0, 4)], [0x21, 0xa0, 3, 24]);
  assert.equal(b.readUInt32BE(4), 0x11223344);
  assert.equal(b.readUInt32BE(8), 0x55667788);
  assert.equal(b.readUInt32BE(12), 100_000);
  assert.equal(b.readUInt32BE(16), 100_000);
  assert.equal(b.readUInt32BE(20), 0);
});

test('decodes a packet as FRR bfdd sends it (Down, your discriminator 0, 1 s slow timers)', () => {
  const b = Buffer.from('20400318' + '00000017' + '00000000' + '000f4240' + '000186a0' + '00000000', 'hex');
  const p = decodeControl(b);
  assert.equal(p.state, BfdState.Down);
  assert.equal(p.detectMult, 3);
  assert.equal(p.myDiscr, 0x17);
  assert.equal(p.yourDiscr, 0);
  assert.equal(p.desiredMinTx, 1_000_000);
  assert.equal(p.requiredMinRx, 100_000);
});

test('round trip of every flag, state and diagnostic', () => {
  fc.assert(
    fc.property(
      fc.record({
        diag: fc.integer({ min: 0, max: 8 }),
        state: fc.constantFrom(BfdState.AdminDown, BfdState.Down, BfdState.Init, BfdState.Up),
        poll: fc.boolean(),
        final: fc.boolean(),
        cpi: fc.boolean(),
        demand: fc.boolean(),
        detectMult: fc.integer({ min: 1, max: 255 }),
        myDiscr: fc.integer({ min: 1, max: 0xffffffff }),
        yourDiscr: fc.integer({ min: 1, max: 0xffffffff }),
        desiredMinTx: fc.integer({ min: 0, max: 0xffffffff }),
        requiredMinRx: fc.integer({ min: 0, max: 0xffffffff }),
        requiredMinEchoRx: fc.integer({ min: 0, max: 0xffffffff }),
      }),
      (p) => {
        assert.deepEqual(decodeControl(encodeControl({ ...p } as ControlPacket)), { ...p });
      },
    ),
  );
});

test('authentication sections: simple password and keyed SHA1 round trip', () => {
  const simple = { ...base, auth: { type: AuthType.SimplePassword as const, keyId: 7, password: Buffer.from('secret') } };
  const b1 = encodeControl(simple);
  assert.equal(b1[3], 24 + 3 + 6);
  assert.equal(b1[1]! & 0x04, 0x04);
  assert.deepEqual(decodeControl(b1), simple);
  const sha = { ...base, auth: { type: AuthType.KeyedSHA1 as const, keyId: 1, sequence: 42, digest: Buffer.alloc(20, 0xab) } };
  const b2 = encodeControl(sha);
  assert.equal(b2.length, 24 + 28);
  assert.deepEqual(decodeControl(b2), sha);
});

test('hostile packets: every RFC 5880 §6.8.6 packet-only rule gives its reason', () => {
  const good = encodeControl(base);
  assert.equal(reason(good), 'ok');
  assert.equal(reason(good.subarray(0, 23)), 'short');
  assert.equal(reason(Buffer.alloc(0)), 'short');
  const v0 = Buffer.from(good);
  v0[0] = (0 << 5) | (v0[0]! & 0x1f);
  assert.equal(reason(v0), 'version');
  const v2 = Buffer.from(good);
  v2[0] = (2 << 5) | 0;
  assert.equal(reason(v2), 'version');
  const lenSmall = Buffer.from(good);
  lenSmall[3] = 20;
  assert.equal(reason(lenSmall), 'length');
  const lenBig = Buffer.from(good);
  lenBig[3] = 60;
  assert.equal(reason(lenBig), 'length');
  const authNoRoom = Buffer.from(good);
  authNoRoom[1] = authNoRoom[1]! | 0x04; // A bit, length still 24
  assert.equal(reason(authNoRoom), 'length');
  const dm0 = Buffer.from(good);
  dm0[2] = 0;
  assert.equal(reason(dm0), 'detect-mult-zero');
  const mp = Buffer.from(good);
  mp[1] = mp[1]! | 0x01;
  assert.equal(reason(mp), 'multipoint');
  assert.equal(reason(encodeControl({ ...base, myDiscr: 0 })), 'my-discriminator-zero');
  assert.equal(reason(encodeControl({ ...base, yourDiscr: 0, state: BfdState.Up })), 'your-discriminator-zero');
  assert.equal(reason(encodeControl({ ...base, yourDiscr: 0, state: BfdState.Init })), 'your-discriminator-zero');
  assert.equal(reason(encodeControl({ ...base, yourDiscr: 0, state: BfdState.Down })), 'ok');
  assert.equal(reason(encodeControl({ ...base, yourDiscr: 0, state: BfdState.AdminDown })), 'ok');
  const badAuth = Buffer.concat([good, Buffer.from([9, 4, 1, 0])]);
  badAuth[1] = badAuth[1]! | 0x04;
  badAuth[3] = 28;
  assert.equal(reason(badAuth), 'auth-section');
  const shaShort = Buffer.concat([good, Buffer.from([4, 10, 1, 0, 0, 0, 0, 0, 0, 0])]);
  shaShort[1] = shaShort[1]! | 0x04;
  shaShort[3] = 34;
  assert.equal(reason(shaShort), 'auth-section');
  // A trailing byte beyond the length field is allowed (the length field rules).
  assert.equal(reason(Buffer.concat([good, Buffer.from([0])])), 'ok');
});

test('random bytes never throw anything but BfdDecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (arr) => {
      try {
        decodeControl(Buffer.from(arr));
      } catch (e) {
        assert.ok(e instanceof BfdDecodeError, String(e));
      }
    }),
    { numRuns: 5000 },
  );
});
