// The BGP codec fuzzer's pieces, shared by `npm run fuzz` (test/fuzz/run.ts: a million random
// and mutated messages) and the unit test that replays the saved corpus
// (test/unit/bgp/codec/fuzz-corpus.test.ts): the seed messages, the mutation strategies, and
// the checks every input must pass (no exception escapes, every result is one of the defined
// kinds, whatever the decoder accepts re-encodes and decodes again to the same message).
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
} from '../../src/bgp/codec/index.ts';
import type { BGPMessage, CodecOptions, DecodeResult, FrameResult, PathAttributes } from '../../src/bgp/codec/index.ts';

/** Valid messages of every type that the mutations start from. */
export function seedMessages(): Uint8Array[] {
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

/** One fuzz input: the bytes on the wire (header included), the session options, and where to cut it in two TCP reads. */
export interface FuzzInput {
  msg: Uint8Array;
  opts: CodecOptions;
  cut: number;
}

/** Outcome counters of a run. */
export type FuzzCounts = Record<'frame' | 'frame-error' | 'ok' | 'treat-as-withdraw' | 'error' | 'reencoded', number>;

export function newCounts(): FuzzCounts {
  return { frame: 0, 'frame-error': 0, ok: 0, 'treat-as-withdraw': 0, error: 0, reencoded: 0 };
}

/**
 * The verdict of one decode as a short string ("ok", "treat-as-withdraw", "error 3/1"). checkInput
 * joins them: "decode:error 3/1 framer:error 3/1" (the straight decode of the bytes, then each
 * message the framer cut out and its decode; "framer-error:1/2" when the framer refused them). Corpus entries record it so
 * a replay notices a changed classification.
 */
export function verdictOf(r: DecodeResult): string {
  return r.kind === 'error' ? `error ${r.notification.code}/${r.notification.subcode}` : r.kind;
}

function decodeChecked(type: number, body: Uint8Array, opts: CodecOptions, counts: FuzzCounts): string {
  const r = decodeMessage(type, body, opts);
  checkResult(r);
  counts[r.kind]++;
  if (r.kind === 'ok') {
    // Whatever the decoder accepts, the encoder can write back, and it decodes again to the
    // same message (on 4-octet sessions, where no AS4_PATH reconstruction is involved).
    const again = encodeMessage(r.message, { ...opts, maxMessageSize: 65535 });
    const r2 = decodeMessage(again[18]!, again.subarray(19), opts);
    checkResult(r2);
    if (r2.kind !== 'ok') assert.fail(`re-encoded message not accepted: ${'reason' in r2 ? r2.reason : ''}`);
    if (opts.fourOctetAS) assert.deepEqual(normalize(r2.message), normalize(r.message));
    counts.reencoded++;
  }
  return verdictOf(r);
}

/**
 * Runs one input through decodeMessage directly (bypassing the framer's checks) and through a
 * fresh MessageFramer in two chunks; throws (an AssertionError or whatever escaped the codec)
 * when a check fails. Returns the verdict string.
 */
export function checkInput(input: FuzzInput, counts: FuzzCounts = newCounts()): string {
  const { msg, opts, cut } = input;
  const parts: string[] = [];
  if (msg.length >= 19) parts.push(`decode:${decodeChecked(msg[18]!, msg.subarray(19), opts, counts)}`);
  const framer = new MessageFramer();
  framer.push(msg.subarray(0, cut));
  framer.push(msg.subarray(cut));
  for (let fr: FrameResult | undefined = framer.next(); fr !== undefined; fr = framer.next()) {
    if (fr.kind === 'error') {
      counts['frame-error']++;
      assert.equal(fr.notification.code, 1);
      assert.ok(fr.notification.subcode >= 1 && fr.notification.subcode <= 3);
      parts.push(`framer-error:1/${fr.notification.subcode}`);
    } else if (fr.kind === 'frame') {
      counts.frame++;
      parts.push(`framer:${decodeChecked(fr.type, fr.body, opts, counts)}`);
    } else {
      assert.fail('unexpected frame kind');
    }
  }
  return parts.length === 0 ? 'nothing' : parts.join(' ');
}

/**
 * The i-th input of a run: random bodies, random bytes, bit flips, length-field tampering,
 * truncation or extension of a seed message; session options alternate with i.
 */
export function mutate(rand: () => number, i: number, seeds: Uint8Array[]): FuzzInput {
  const int = (n: number): number => Math.floor(rand() * n);
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
      if (rand() < 0.7) msg = msg.slice(0, 19 + int(Math.max(1, msg.length - 19)));
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
  return { msg, opts, cut: int(msg.length + 1) };
}

/** One saved input of test/fixtures/fuzz/bgp-codec.json. */
export interface CorpusEntry {
  /** Why it is here: "crasher: <error>" (saved by `npm run fuzz`) or "outcome: ..." (a distinct verdict). */
  note: string;
  hex: string;
  fourOctetAS: boolean;
  ebgp: boolean;
  cut: number;
  /** The verdict checkInput gave when it was saved (absent for crashers until they are fixed). */
  verdict?: string;
}

export function toEntry(input: FuzzInput, note: string, verdict?: string): CorpusEntry {
  const e: CorpusEntry = { note, hex: Buffer.from(input.msg).toString('hex'), fourOctetAS: input.opts.fourOctetAS === true, ebgp: input.opts.ebgp === true, cut: input.cut };
  if (verdict !== undefined) e.verdict = verdict;
  return e;
}

export function fromEntry(e: CorpusEntry): FuzzInput {
  return { msg: new Uint8Array(Buffer.from(e.hex, 'hex')), opts: { fourOctetAS: e.fourOctetAS, ebgp: e.ebgp }, cut: e.cut };
}

export const CORPUS_FILE = new URL('../fixtures/fuzz/bgp-codec.json', import.meta.url);
