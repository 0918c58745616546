// GoBGP (gobgpd + gobgp CLI) as the reference sender. Routes are loaded before the session
// comes up: the neighbor is configured admin-down, N host routes are injected from an MRT
// TABLE_DUMP_V2 file written here, then the neighbor is enabled.
//
// GoBGP 3.10 quirk: `gobgp mrt inject` exits without draining its gRPC stream and loses the
// last few hundred records, so the file is padded with copies of the last route (re-adding an
// identical path is a no-op) and injection resumes from the first missing record if needed.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIP } from '../../src/ip/index.ts';
import { BenchError, run, runOk, startBg, tailFile, waitFor } from './proc.ts';
import type { BgProcess } from './proc.ts';
import { BENCH_BASE } from './routes.ts';

export interface GobgpPeer {
  neighbor: string;
  neighborAs: number;
  local: string;
  passive: boolean;
  holdTime?: number;
  keepaliveTime?: number;
  /** Configure the neighbor administratively down (enable later). */
  adminDown?: boolean;
}

export interface GobgpOptions {
  ns: string;
  dir: string;
  asn: number;
  routerId: string;
  peers: GobgpPeer[];
}

const MRT_PAD = 2000;

function attr(flags: number, type: number, val: Buffer): Buffer {
  if (val.length > 255) {
    const h = Buffer.alloc(4);
    h.writeUInt8(flags | 0x10, 0);
    h.writeUInt8(type, 1);
    h.writeUInt16BE(val.length, 2);
    return Buffer.concat([h, val]);
  }
  return Buffer.concat([Buffer.from([flags, type, val.length]), val]);
}

function mrtRecord(ts: number, subtype: number, body: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32BE(ts, 0);
  h.writeUInt16BE(13, 4); // TABLE_DUMP_V2
  h.writeUInt16BE(subtype, 6);
  h.writeUInt32BE(body.length, 8);
  return Buffer.concat([h, body]);
}

/** Writes an MRT TABLE_DUMP_V2 file with n /32 routes from 198.18.0.0 (next hop `nextHop`),
 * padded with MRT_PAD copies of the last record. Attributes: ORIGIN IGP, empty AS_PATH, NEXT_HOP. */
export function writeMrt(file: string, n: number, nextHop: string, peerAddr: string, peerAs: number): void {
  const ts = Math.floor(Date.now() / 1000);
  const ipBuf = (s: string): Buffer => {
    const v = parseIP(s).value;
    const b = Buffer.alloc(4);
    b.writeUInt32BE(Number(v), 0);
    return b;
  };
  const parts: Buffer[] = [];
  // PEER_INDEX_TABLE: collector id, empty view name, one peer (AS4, IPv4 address)
  const peer = Buffer.concat([Buffer.from([0x02]), ipBuf(peerAddr), ipBuf(peerAddr), Buffer.alloc(4)]);
  peer.writeUInt32BE(peerAs, 9);
  const pit = Buffer.concat([ipBuf(peerAddr), Buffer.from([0, 0, 0, 1]), peer]);
  parts.push(mrtRecord(ts, 1, pit));
  const attrs = Buffer.concat([attr(0x40, 1, Buffer.from([0])), attr(0x40, 2, Buffer.alloc(0)), attr(0x40, 3, ipBuf(nextHop))]);
  const base = Number(parseIP(BENCH_BASE).value);
  const total = n > 0 ? n + MRT_PAD : 0;
  for (let k = 0; k < total; k++) {
    const i = Math.min(k, n - 1);
    const body = Buffer.alloc(4 + 1 + 4 + 2 + 2 + 4 + 2 + attrs.length);
    let o = 0;
    o = body.writeUInt32BE(k, o);
    o = body.writeUInt8(32, o);
    o = body.writeUInt32BE((base + i) >>> 0, o);
    o = body.writeUInt16BE(1, o); // entry count
    o = body.writeUInt16BE(0, o); // peer index
    o = body.writeUInt32BE(ts, o);
    o = body.writeUInt16BE(attrs.length, o);
    attrs.copy(body, o);
    parts.push(mrtRecord(ts, 2, body));
  }
  writeFileSync(file, Buffer.concat(parts));
}

export class Gobgp {
  readonly opts: GobgpOptions;
  readonly sock: string;
  proc: BgProcess | undefined;

  constructor(opts: GobgpOptions) {
    this.opts = opts;
    mkdirSync(opts.dir, { recursive: true });
    this.sock = join(opts.dir, 'api.sock');
  }

  get pid(): number {
    if (!this.proc) throw new BenchError('gobgpd not started');
    return this.proc.pid;
  }

  config(): string {
    const o = this.opts;
    const l: string[] = ['[global.config]', `  as = ${o.asn}`, `  router-id = "${o.routerId}"`, `  port = 179`];
    for (const p of o.peers) {
      l.push('', '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${p.neighbor}"`, `    peer-as = ${p.neighborAs}`);
      if (p.adminDown) l.push('    admin-down = true');
      l.push('  [neighbors.transport.config]', `    local-address = "${p.local}"`, `    passive-mode = ${p.passive}`);
      l.push('  [neighbors.timers.config]', '    connect-retry = 2', '    idle-hold-time-after-reset = 1');
      if (p.holdTime !== undefined) l.push(`    hold-time = ${p.holdTime}`);
      if (p.keepaliveTime !== undefined) l.push(`    keepalive-interval = ${p.keepaliveTime}`);
      l.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv4-unicast"');
    }
    return l.join('\n') + '\n';
  }

  gobgp(args: string[]): Promise<string> {
    return runOk('gobgp', ['--target', `unix://${this.sock}`, ...args], { timeoutMs: 120000 });
  }

  async start(): Promise<void> {
    const conf = join(this.opts.dir, 'gobgpd.toml');
    writeFileSync(conf, this.config());
    const log = join(this.opts.dir, 'gobgpd.log');
    this.proc = startBg(
      `gobgpd(${this.opts.dir})`,
      'ip',
      ['netns', 'exec', this.opts.ns, 'gobgpd', '-f', conf, '-p', '-l', 'warn', '--api-hosts', `unix://${this.sock}`, '--pprof-disable'],
      log,
    );
    await waitFor(
      'gobgpd API',
      async () => {
        if (this.proc?.exited) throw new BenchError(`gobgpd exited: ${tailFile(log)}`);
        const r = await run('gobgp', ['--target', `unix://${this.sock}`, 'global']);
        return r.code === 0 ? true : undefined;
      },
      20000,
      100,
    );
  }

  async ribCount(): Promise<number> {
    const out = await this.gobgp(['global', 'rib', 'summary', '-a', 'ipv4']);
    const m = /Destination:\s*(\d+)/.exec(out);
    return m ? Number(m[1]) : 0;
  }

  /** Loads n host routes into the global RIB from an MRT file; returns seconds taken. */
  async inject(n: number, mrtFile: string): Promise<number> {
    const t0 = Date.now();
    let have = await this.ribCount();
    const base = have;
    for (let tries = 0; have - base < n; tries++) {
      if (tries >= 50) throw new BenchError(`gobgp mrt inject stuck at ${have - base}/${n} routes`);
      const done = have - base;
      const args = ['mrt', 'inject', 'global', mrtFile];
      if (done > 0) args.push(String(n + MRT_PAD - done), String(done));
      await this.gobgp(args);
      // wait until gobgpd stops ingesting
      let prev = -1;
      have = await this.ribCount();
      while (have !== prev) {
        prev = have;
        await new Promise((r) => setTimeout(r, 100));
        have = await this.ribCount();
      }
    }
    return (Date.now() - t0) / 1000;
  }

  async enable(neighbor: string): Promise<void> {
    await this.gobgp(['neighbor', neighbor, 'enable']);
  }

  async established(neighbor: string): Promise<boolean> {
    const r = await run('gobgp', ['--target', `unix://${this.sock}`, 'neighbor', neighbor]);
    return /BGP state = established/i.test(r.stdout);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.proc?.stop(signal);
  }
}
