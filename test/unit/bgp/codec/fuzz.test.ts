// Fuzz: >= 1,000,000 random and mutated messages (bit flips, truncation, length-field
// tampering of valid messages, random bytes) through MessageFramer + decodeMessage with a fixed
// seed. No exception may escape, every result must be one of the defined kinds, and every
// message the decoder accepts must survive re-encoding.
// FUZZ_ITERATIONS (default 1,000,000) and FUZZ_SEED change the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MessageFramer,
  decodeMessage,
  encodeKeepalive,
  encodeMessage,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  encodeUpdate,
  endOfRib,
  packUpdates,
} from '../../../../src/bgp/codec/index.ts';
import { mulberry32 } from '../../helpers/random.ts';
import type { BGPMessage, CodecOptions, DecodeResult, FrameResult, PathAttributes } from '../../../../src/bgp/codec/index.ts';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

function corpus(): Uint8Array[] {
  const four: CodecOptions = { fourOctetAS: true };
  const two: CodecOptions = { fourOctetAS: false };
  const full: PathAttributes = {
    origin: 0,
    asPath: [
      { type: 2, asns: [65001, 4200000000, 64512] },
      { type: 1, asns: [1, 2] },
    ],
    nextHop: { family: 4, value: 0xc0000201n },
    med: 10,
    localPref: 100,
    atomicAggregate: true,
    aggregator: { asn: 4200000000, address: 0x0a000001n },
    communities: [0xffffff02, 0xfde90064],
    largeCommunities: [[64512, 1, 2]],
    unknown: [{ flags: 0xc0, type: 16, value: Uint8Array.of(0, 2, 0xfd, 0xe9, 0, 0, 0, 1) }],
  };
  const v6: PathAttributes = {
    origin: 2,
    asPath: [{ type: 2, asns: [64512] }],
    mpReach: { afi: 2, safi: 1, nextHops: [{ family: 6, value: (0x20010db8n << 96n) + 1n }, { family: 6, value: (0xfe80n << 112n) + 1n }], nlri: [] },
  };
  return [
    encodeKeepalive(),
    encodeNotification(6, 2, new TextEncoder().encode('\u0005bye!')),
    encodeRouteRefresh(1, 1),
    encodeRouteRefresh(2, 1, 1),
    encodeOpen({
      version: 4,
      myAS: 23456,
      holdTime: 90,
      bgpId: 0x0a000001,
      capabilities: [
        { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
        { code: 1, kind: 'multiprotocol', afi: 2, safi: 1 },
        { code: 2, kind: 'route-refresh' },
        { code: 64, kind: 'graceful-restart', restartState: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
        { code: 65, kind: 'four-octet-as', asn: 4200000000 },
        { code: 70, kind: 'unknown', data: new Uint8Array(0) },
      ],
    }),
    encodeUpdate({ withdrawn: [{ family: 4, network: 0x0a000000n, length: 8 }], attributes: full, nlri: [{ family: 4, network: 0xc6336400n, length: 24 }, { family: 4, network: 0xc633640an, length: 32 }] }, four),
    encodeUpdate({ withdrawn: [], attributes: full, nlri: [{ family: 4, network: 0xc6336400n, length: 24 }] }, two),
    ...packUpdates([{ attributes: v6, prefixes: [{ family: 6, network: 0x20010db8n << 96n, length: 32 }, { family: 6, network: (0x20010db8n << 96n) + 5n, length: 128 }] }], [{ family: 6, network: 0x20010db8n << 96n, length: 48 }], four),
    encodeUpdate({ withdrawn: [], attributes: { ...full, mpUnreach: { afi: 2, safi: 1, withdrawn: [{ family: 6, network: 0n, length: 0 }] } }, nlri: [] }, four),
    endOfRib(4, four),
    endOfRib(6, four),
    // RFC 9072 extended optional parameters.
    encodeOpen({ version: 4, myAS: 65001, holdTime: 3, bgpId: 1, capabilities: Array.from({ length: 50 }, (_, i) => ({ code: 1 as const, kind: 'multiprotocol' as const, afi: 1 + (i % 2), safi: 1 + i })) }),
    // A 2-octet-session UPDATE whose AS_PATH holds AS_TRANS and needs AS4_PATH reconstruction.
    encodeUpdate({ withdrawn: [], attributes: { ...full, asPath: [{ type: 2, asns: [65010, 4200000000] }, { type: 1, asns: [4200000001, 7] }] }, nlri: [{ family: 4, network: 0xc6336400n, length: 24 }] }, two),
  ];
}

/** Re-encoding sorts attributes by type and sets the Partial bit on unknown optional transitive ones. */
function normalize(m: BGPMessage): BGPMessage {
  if (m.type !== 2 || m.attributes.unknown === undefined) return m;
  return { ...m, attributes: { ...m.attributes, unknown: [...m.attributes.unknown].sort((a, b) => a.type - b.type).map((u) => ({ ...u, flags: (u.flags & 0xc0) === 0xc0 ? u.flags | 0x20 : u.flags })) } };
}

const KINDS = new Set(['ok', 'treat-as-withdraw', 'error']);

function checkResult(r: DecodeResult): void {
  if (!KINDS.has(r.kind)) assert.fail(`unexpected result kind ${String(r.kind)}`);
  if (r.kind === 'error') {
    const n = r.notification;
    if (!(n.code >= 1 && n.code <= 7) || !Number.isInteger(n.subcode) || n.subcode < 0 || n.subcode > 255) assert.fail(`bad notification ${n.code}/${n.subcode}`);
    if (r.reason.startsWith('internal decoder error')) assert.fail(r.reason);
  }
}

test(`fuzz: ${ITERATIONS} random and mutated messages through framer + decoder`, () => {
  const rand = mulberry32(SEED);
  const int = (n: number): number => Math.floor(rand() * n);
  const seeds = corpus();
  const counts: Record<string, number> = { frame: 0, 'frame-error': 0, ok: 0, 'treat-as-withdraw': 0, error: 0, reencoded: 0 };
  let framer = new MessageFramer();
  const started = process.hrtime.bigint();

  const decodeChecked = (type: number, body: Uint8Array, opts: CodecOptions): void => {
    const r = decodeMessage(type, body, opts);
    checkResult(r);
    counts[r.kind]!++;
    if (r.kind === 'ok') {
      // Whatever the decoder accepts, the encoder can write back, and it decodes again to the
      // same message (on 4-octet sessions, where no AS4_PATH reconstruction is involved).
      const again = encodeMessage(r.message, { ...opts, maxMessageSize: 65535 });
      const r2 = decodeMessage(again[18]!, again.subarray(19), opts);
      checkResult(r2);
      if (r2.kind !== 'ok') assert.fail(`re-encoded message not accepted: ${'reason' in r2 ? r2.reason : ''}`);
      if (opts.fourOctetAS) assert.deepEqual(normalize(r2.message), normalize(r.message));
      counts.reencoded!++;
    }
  };

  for (let i = 0; i < ITERATIONS; i++) {
    let msg: Uint8Array;
    const strategy = int(10);
    const base = seeds[int(seeds.length)]!;
    let fixLength = true;
    if (strategy === 0) {
      // Random body behind a valid header.
      msg = new Uint8Array(19 + int(120));
      for (let j = 19; j < msg.length; j++) msg[j] = int(256);
      msg[18] = 1 + int(5);
    } else if (strategy === 1) {
      // Random bytes, anything goes (framer errors mostly).
      msg = new Uint8Array(1 + int(64));
      for (let j = 0; j < msg.length; j++) msg[j] = int(256);
      if (rand() < 0.5) msg.fill(0xff, 0, Math.min(16, msg.length));
      fixLength = false;
    } else {
      msg = base.slice();
      const flips = 1 + int(4);
      if (strategy <= 5) {
        // Bit flips in the body (and sometimes the header).
        for (let k = 0; k < flips; k++) {
          const at = rand() < 0.9 && msg.length > 19 ? 19 + int(msg.length - 19) : int(msg.length);
          msg[at]! ^= 1 << int(8);
        }
        fixLength = rand() < 0.8;
      } else if (strategy <= 7) {
        // Length-field tampering: overwrite one or two bytes with boundary values.
        const vals = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff];
        for (let k = 0; k < flips; k++) {
          const at = msg.length > 19 ? 19 + int(msg.length - 19) : 18;
          msg[at] = rand() < 0.7 ? vals[int(vals.length)]! : int(256);
        }
      } else {
        // Truncation, or extension with junk.
        if (rand() < 0.7) msg = msg.subarray(0, 19 + int(Math.max(1, msg.length - 19)));
        else {
          const ext = new Uint8Array(msg.length + 1 + int(16));
          ext.set(msg);
          for (let j = msg.length; j < ext.length; j++) ext[j] = int(256);
          msg = ext;
        }
        fixLength = rand() < 0.85;
      }
    }
    if (fixLength && msg.length >= 19) {
      msg[16] = msg.length >> 8;
      msg[17] = msg.length & 0xff;
    }
    const opts: CodecOptions = { fourOctetAS: (i & 1) === 0, ebgp: (i & 2) === 0 };

    // Straight into the decoder (bypassing the framer's checks).
    if (msg.length >= 19) decodeChecked(msg[18]!, msg.subarray(19), opts);

    // Through the framer, possibly split into two chunks.
    const cut = int(msg.length + 1);
    framer.push(msg.subarray(0, cut));
    framer.push(msg.subarray(cut));
    for (let fr: FrameResult | undefined = framer.next(); fr !== undefined; fr = framer.next()) {
      if (fr.kind === 'error') {
        counts['frame-error']!++;
        assert.equal(fr.notification.code, 1);
        assert.ok(fr.notification.subcode >= 1 && fr.notification.subcode <= 3);
      } else if (fr.kind === 'frame') {
        counts.frame!++;
        decodeChecked(fr.type, fr.body, opts);
      } else {
        assert.fail('unexpected frame kind');
      }
    }
    if (framer.failed || framer.buffered > 0) framer = new MessageFramer();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Every outcome must actually have been exercised.
  for (const k of Object.keys(counts)) assert.ok(counts[k]! > 0, `no ${k} outcome in ${ITERATIONS} iterations`);
  console.log(JSON.stringify({ fuzz: 'bgp-codec', iterations: ITERATIONS, seed: SEED, seconds: Number(seconds.toFixed(1)), ...counts }));
});
