// Benchmark (not a test): the BGP codec. Packs N /32 (and N /128) routes with identical
// attributes into UPDATEs, then frames and decodes them back; also N single-route UPDATEs
// (worst case: one message per route).
// Prints a table (stderr) and one JSON line per result on stdout:
//   {"bench":"codec/pack-ipv4","n":100000,"impl":"metallb-ts","seconds":...,"messages":...,"bytes":...,"routesPerSecond":...}
// Run: node --import tsx bench/codec.ts [--smoke] [--n 100000] [--runs 3]

import { MessageFramer, decodeMessage, encodeUpdate, packUpdates } from '../src/bgp/codec/index.ts';
import type { CodecOptions, NLRI, PathAttributes } from '../src/bgp/codec/index.ts';
import { emitJson, printTable, putSpread } from './lib/stats.ts';
import type { BenchResult } from './lib/stats.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const smoke = process.argv.includes('--smoke');
const N = Number(arg('--n') ?? (smoke ? 5000 : 100000));
const RUNS = Number(arg('--runs') ?? (smoke ? 1 : 3));
const OPTS: CodecOptions = { fourOctetAS: true };

const ATTRS4: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [64512] }],
  nextHop: { family: 4, value: 0xc0000201n },
  localPref: 100,
  communities: [0xffffff02],
  largeCommunities: [[64512, 1, 1]],
};
const ATTRS6: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [64512] }],
  mpReach: { afi: 2, safi: 1, nextHops: [{ family: 6, value: (0x20010db8n << 96n) + 1n }], nlri: [] },
  communities: [0xffffff02],
};

function hosts4(n: number): NLRI[] {
  return Array.from({ length: n }, (_, i) => ({ family: 4 as const, network: BigInt(0x0a000000 + i), length: 32 }));
}
function hosts6(n: number): NLRI[] {
  return Array.from({ length: n }, (_, i) => ({ family: 6 as const, network: (0x20010db8n << 96n) + BigInt(i), length: 128 }));
}

function decodeAll(msgs: Uint8Array[]): number {
  const f = new MessageFramer();
  let routes = 0;
  for (const m of msgs) {
    f.push(m);
    for (let r = f.next(); r; r = f.next()) {
      if (r.kind !== 'frame') throw new Error(r.reason);
      const d = decodeMessage(r.type, r.body, OPTS);
      if (d.kind !== 'ok' || d.message.type !== 2) throw new Error('decode failed');
      routes += d.message.nlri.length + (d.message.attributes.mpReach?.nlri.length ?? 0);
    }
  }
  return routes;
}

interface Case {
  name: string;
  encode: () => Uint8Array[];
}

const cases: Case[] = [
  { name: 'pack-ipv4', encode: () => packUpdates([{ attributes: ATTRS4, prefixes: hosts4(N) }], [], OPTS) },
  { name: 'pack-ipv6', encode: () => packUpdates([{ attributes: ATTRS6, prefixes: hosts6(N) }], [], OPTS) },
  { name: 'withdraw-ipv4', encode: () => packUpdates([], hosts4(N), OPTS) },
  { name: 'one-per-update-ipv4', encode: () => hosts4(N).map((p) => encodeUpdate({ withdrawn: [], attributes: ATTRS4, nlri: [p] }, OPTS)) },
];

const results: BenchResult[] = [];
for (const c of cases) {
  const enc: number[] = [];
  const dec: number[] = [];
  let messages = 0;
  let bytes = 0;
  let decoded = 0;
  for (let run = 0; run < RUNS; run++) {
    const t0 = process.hrtime.bigint();
    const msgs = c.encode();
    const t1 = process.hrtime.bigint();
    decoded = decodeAll(msgs);
    const t2 = process.hrtime.bigint();
    enc.push(Number(t1 - t0) / 1e9);
    dec.push(Number(t2 - t1) / 1e9);
    messages = msgs.length;
    bytes = msgs.reduce((a, m) => a + m.length, 0);
  }
  const r: BenchResult = { bench: `codec/${c.name}`, n: N, impl: 'metallb-ts', messages, bytes };
  putSpread(r, 'encodeSeconds', enc, 4);
  putSpread(r, 'decodeSeconds', dec, 4);
  const encMed = r.encodeSeconds as number | null;
  r.seconds = encMed !== null && typeof r.decodeSeconds === 'number' ? encMed + r.decodeSeconds : null;
  r.routesPerSecondEncode = encMed ? Math.round(N / encMed) : null;
  r.routesPerSecondDecode = typeof r.decodeSeconds === 'number' && r.decodeSeconds > 0 ? Math.round(N / r.decodeSeconds) : null;
  r.decodedRoutes = c.name.startsWith('withdraw') ? null : decoded;
  results.push(r);
  emitJson(r);
}

printTable(
  `BGP codec, N=${N}, median of ${RUNS} run(s)`,
  ['case', 'messages', 'bytes', 'encode s', 'decode s', 'routes/s encode', 'routes/s decode'],
  results.map((r) => [r.bench, r.messages, r.bytes, r.encodeSeconds, r.decodeSeconds, r.routesPerSecondEncode, r.routesPerSecondDecode]),
);
