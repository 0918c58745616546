// Benchmark (not a test): the allocator at scale. 100k LoadBalancer Services on a 10.0.0.0/8
// pool, on an IPv6 /64 pool, on a /8 with avoidBuggyIPs, dual-stack, the one-shot `allocate`
// with a full `previous` (a restart), and a reconcile of 100k after editing one pool.
// Prints a table (stderr) and one JSON line per result on stdout:
//   {"bench":"allocation/...","n":100000,"impl":"metallb-ts","seconds":...,"heapMB":...,"usPerService":...}
// "heapMB" is the heap in use right after the run (the allocator still alive), "heapDeltaMB" its
// growth during the run. Run: node --expose-gc --import tsx bench/allocator.ts [--smoke] [--n N]

import { Allocator, allocate } from '../src/allocator/index.ts';
import type { Assignment } from '../src/allocator/index.ts';
import type { Config, Pool } from '../src/config/types.ts';
import { parseRangeOrCIDR, rangeToPrefixes } from '../src/ip/index.ts';
import type { IPRange } from '../src/ip/index.ts';
import type { Service } from '../src/model/objects.ts';
import { emitJson, printTable, round } from './lib/stats.ts';
import type { BenchResult } from './lib/stats.ts';

function pool(name: string, addresses: string[], avoidBuggyIPs = false): Pool {
  const ranges = addresses.map((a) => parseRangeOrCIDR(a) as IPRange);
  return {
    name,
    ranges,
    cidrs: ranges.flatMap(rangeToPrefixes),
    autoAssign: true,
    avoidBuggyIPs,
    labels: {},
    source: { file: 'bench', line: 0, kind: 'IPAddressPool', name },
  };
}

function config(pools: Pool[]): Config {
  return { pools, peers: [], bgpAdvertisements: [], l2Advertisements: [], bfdProfiles: [], communityAliases: {} };
}

function services(n: number, opts: { v6?: boolean; dual?: boolean } = {}): Service[] {
  const width = String(n).length;
  return Array.from({ length: n }, (_, i) => {
    const s: Service = {
      metadata: { name: `svc-${String(i).padStart(width, '0')}`, namespace: `ns-${i % 100}` },
      spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: `a${i}` } },
    };
    if (opts.v6) s.spec.ipFamilies = ['IPv6'];
    if (opts.dual) s.spec.ipFamilyPolicy = 'RequireDualStack';
    return s;
  });
}

function heapMB(): number {
  return process.memoryUsage().heapUsed / (1024 * 1024);
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

interface Row {
  name: string;
  n: number;
  seconds: number;
  heapMB: number;
  deltaMB: number;
}

const rows: Row[] = [];

/** `delta`: heap growth during the run (the structures built; without --expose-gc it includes garbage). */
function record(name: string, n: number, seconds: number, delta: number): void {
  const heap = heapMB();
  rows.push({ name, n, seconds, heapMB: heap, deltaMB: delta });
  const r: BenchResult = {
    bench: `allocation/${name}`,
    n,
    impl: 'metallb-ts',
    seconds: round(seconds, 4),
    heapMB: round(heap, 1),
    heapDeltaMB: round(delta, 1),
    usPerService: round((seconds * 1e6) / Math.max(1, n), 3),
  };
  emitJson(r);
}

/** Incremental: one Allocator.assign per Service. Returns the allocator for follow-ups. */
function incremental(name: string, cfg: Config, svcs: Service[]): Allocator {
  gc();
  const h0 = heapMB();
  const t0 = process.hrtime.bigint();
  const a = new Allocator(cfg);
  for (const s of svcs) {
    const r = a.assign(s);
    if (!r.assignment) throw new Error(`${name}: ${r.key}: ${r.error}`);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  record(name, svcs.length, secs, heapMB() - h0);
  return a;
}

function main(argv: string[]): number {
  let n = 100_000;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--smoke') n = 1000;
    else if (argv[i] === '--n') {
      n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) {
        process.stderr.write('--n wants a positive integer\n');
        return 2;
      }
    } else {
      process.stderr.write(`unknown argument ${argv[i]}\nusage: node --import tsx bench/allocator.ts [--smoke] [--n N]\n`);
      return 2;
    }
  }

  const v4 = services(n);
  // Reference: a /28 (16 addresses), filled by fresh allocators again and again until n
  // Services have been placed. The per-service cost on a /8 or a /64 must be the same.
  {
    const cfg28 = config([pool('p', ['10.0.0.0/28'])]);
    gc();
    const h0 = heapMB();
    const t0 = process.hrtime.bigint();
    for (let done = 0; done < n; ) {
      const a = new Allocator(cfg28);
      for (let i = 0; i < 16 && done < n; i++, done++) {
        if (!a.assign(v4[done] as Service).assignment) throw new Error('/28 exhausted early');
      }
    }
    record('ipv4-/28-refilled', n, Number(process.hrtime.bigint() - t0) / 1e9, heapMB() - h0);
  }
  // Same number of Services on a pool of exactly n addresses: any gap to the /8 below would be
  // the cost of pool size (the gap to the refilled /28 is the cost of holding n Services).
  const lastFit = 0x0a000000 + n - 1;
  const fit = `10.0.0.0-${lastFit >>> 24}.${(lastFit >>> 16) & 255}.${(lastFit >>> 8) & 255}.${lastFit & 255}`;
  incremental('ipv4-exact-fit', config([pool('p', [fit])]), v4);
  const a8 = incremental('ipv4-/8', config([pool('p', ['10.0.0.0/8'])]), v4);
  incremental('ipv4-/8-avoidBuggyIPs', config([pool('p', ['10.0.0.0/8'], true)]), v4);
  incremental('ipv6-/64', config([pool('p', ['2001:db8::/64'])]), services(n, { v6: true }));
  incremental('dual-stack-/8+/64', config([pool('p', ['10.0.0.0/8', '2001:db8::/64'])]), services(n, { dual: true }));

  // restart: one-shot allocate with every previous assignment
  const previous: Record<string, Assignment> = a8.snapshot();
  {
    gc();
    const h0 = heapMB();
    const t0 = process.hrtime.bigint();
    const out = allocate({ config: config([pool('p', ['10.0.0.0/8'])]), services: v4, previous });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (out.results.some((r) => r.changed)) throw new Error('restart moved a service');
    record('restart-allocate-/8', n, secs, heapMB() - h0);
  }
  // one-shot from scratch
  {
    gc();
    const h0 = heapMB();
    const t0 = process.hrtime.bigint();
    allocate({ config: config([pool('p', ['10.0.0.0/8'])]), services: v4, previous: {} });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    record('allocate-fresh-/8', n, secs, heapMB() - h0);
  }
  // reconcile after editing one pool: two pools, the second shrinks to half; released services
  // are re-assigned, every other assignment stays.
  {
    const half = Math.floor(n / 2);
    const cfgA = config([pool('a', ['10.0.0.0/8']), pool('b', ['172.16.0.0/12'])]);
    const svcs = v4.map((s, i) => {
      const c = structuredClone(s);
      c.metadata.annotations = { 'metallb.io/address-pool': i < half ? 'a' : 'b' };
      return c;
    });
    const alloc = new Allocator(cfgA);
    for (const s of svcs) alloc.assign(s);
    const keep = Math.max(1, Math.floor((n - half) / 2));
    // pool b shrinks so that only its first `keep` addresses remain
    const lastKept = 0xac100000 + keep - 1;
    const text = `172.16.0.0-${lastKept >>> 24}.${(lastKept >>> 16) & 255}.${(lastKept >>> 8) & 255}.${lastKept & 255}`;
    const cfgB = config([pool('a', ['10.0.0.0/8']), pool('b', [text, '192.168.0.0/16', '100.64.0.0/10'])]);
    const byKey = new Map(svcs.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
    gc();
    const h0 = heapMB();
    const t0 = process.hrtime.bigint();
    const released = alloc.setConfig(cfgB);
    for (const k of released) alloc.assign(byKey.get(k) as Service);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    record('reconcile-after-pool-edit', n, secs, heapMB() - h0);
    rows[rows.length - 1]!.name += ` (${released.length} released)`;
  }

  printTable(
    `allocator, ${n} Services`,
    ['case', 'n', 'seconds', 'µs/service', 'heap MB', 'heap growth MB'],
    rows.map((r) => [r.name, r.n, round(r.seconds, 4), round((r.seconds * 1e6) / Math.max(1, r.n), 3), round(r.heapMB, 1), round(r.deltaMB, 1)]),
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
