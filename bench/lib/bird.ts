// BIRD 2 as a benchmark router (receiver, or reference sender of static routes), running in a
// namespace the benchmark created, controlled through its own control socket.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError, run, runOk, startBg, tailFile, waitFor } from './proc.ts';
import type { BgProcess } from './proc.ts';
import { hostRoutes } from './routes.ts';

export interface BirdPeer {
  /** Protocol name (letters, digits, underscore). */
  name: string;
  local: string;
  neighbor: string;
  neighborAs: number;
  passive: boolean;
  /** Hold/keepalive seconds (undefined = BIRD defaults 240/80). */
  holdTime?: number;
  keepaliveTime?: number;
  /** Export our static routes to this peer. */
  exportStatic?: boolean;
  /** Start with the protocol disabled (enable later with `enable(name)`). */
  disabled?: boolean;
  /** `bfd on` (needs BirdOptions.bfd). */
  bfd?: boolean;
}

/** BIRD's `protocol bfd` timers (all interfaces). */
export interface BirdBfd {
  intervalMs: number;
  multiplier: number;
}

export interface BirdOptions {
  ns: string;
  /** Directory for this instance's config, socket and logs (created). */
  dir: string;
  routerId: string;
  asn: number;
  peers: BirdPeer[];
  /** Originate this many /32 static routes counting up from 198.18.0.0 (reference sender). */
  staticRoutes?: number;
  /** Listen only on the protocols' local addresses (needed for several BIRDs in one netns). */
  strictBind?: boolean;
  bfd?: BirdBfd;
}

export interface ProtocolInfo {
  established: boolean;
  /** BIRD's state column, e.g. "up", "start", "down". */
  state: string;
  /** BIRD's info column, e.g. "Established", "Active", "Connect". */
  info: string;
  imported: number;
  exported: number;
}

export class Bird {
  readonly opts: BirdOptions;
  readonly ctl: string;
  proc: BgProcess | undefined;

  constructor(opts: BirdOptions) {
    this.opts = opts;
    mkdirSync(opts.dir, { recursive: true });
    this.ctl = join(opts.dir, 'bird.ctl');
  }

  get pid(): number {
    if (!this.proc) throw new BenchError('bird not started');
    return this.proc.pid;
  }

  config(): string {
    const o = this.opts;
    const lines: string[] = [];
    lines.push(`log "${join(o.dir, 'bird.log')}" { info, warning, error, fatal };`);
    lines.push(`router id ${o.routerId};`);
    lines.push('protocol device { scan time 10; }');
    if (o.staticRoutes && o.staticRoutes > 0) {
      lines.push('protocol static st4 {', '  ipv4;');
      for (const p of hostRoutes(o.staticRoutes)) lines.push(`  route ${p}/32 blackhole;`);
      lines.push('}');
    }
    if (o.bfd) {
      lines.push('protocol bfd {', '  interface "*" {', `    min rx interval ${o.bfd.intervalMs} ms;`, `    min tx interval ${o.bfd.intervalMs} ms;`, `    multiplier ${o.bfd.multiplier};`, '  };', '}');
    }
    const strict = o.peers.length > 1 || o.strictBind === true;
    for (const p of o.peers) {
      lines.push(`protocol bgp ${p.name} {`);
      if (p.disabled) lines.push('  disabled;');
      lines.push(`  local ${p.local} as ${o.asn};`);
      lines.push(`  neighbor ${p.neighbor} as ${p.neighborAs};`);
      if (strict) lines.push('  strict bind on;');
      if (p.passive) lines.push('  passive on;');
      lines.push('  connect delay time 1; connect retry time 2; error wait time 1, 5;');
      if (p.holdTime !== undefined) lines.push(`  hold time ${p.holdTime};`);
      if (p.keepaliveTime !== undefined) lines.push(`  keepalive time ${p.keepaliveTime};`);
      if (p.bfd) lines.push('  bfd on;');
      const exp = p.exportStatic ? 'where source = RTS_STATIC' : 'none';
      lines.push(`  ipv4 { import all; export ${exp}; next hop self; };`);
      lines.push('}');
    }
    return lines.join('\n') + '\n';
  }

  async start(): Promise<void> {
    const conf = join(this.opts.dir, 'bird.conf');
    writeFileSync(conf, this.config());
    const check = await run('ip', ['netns', 'exec', this.opts.ns, 'bird', '-p', '-c', conf]);
    if (check.code !== 0) throw new BenchError(`bad BIRD config ${conf}: ${check.stderr.trim()}`);
    this.proc = startBg(`bird(${this.opts.dir})`, 'ip', ['netns', 'exec', this.opts.ns, 'bird', '-f', '-c', conf, '-s', this.ctl], join(this.opts.dir, 'stdout.log'));
    await waitFor(
      'BIRD control socket',
      async () => {
        if (this.proc?.exited) throw new BenchError(`bird exited: ${tailFile(join(this.opts.dir, 'stdout.log'))}`);
        const r = await run('birdc', ['-s', this.ctl, 'show', 'status']);
        return r.code === 0 && r.stdout.includes('Daemon is up') ? true : undefined;
      },
      20000,
      50,
    );
  }

  birdc(args: string[]): Promise<string> {
    return runOk('birdc', ['-s', this.ctl, ...args], { timeoutMs: 30000 });
  }

  /** State and route counters of one BGP protocol. */
  async protocol(name: string): Promise<ProtocolInfo> {
    const out = await this.birdc(['show', 'protocols', 'all', name]);
    let state = '';
    let info = '';
    for (const line of out.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols[0] === name && cols[1] === 'BGP') {
        state = cols[3] ?? '';
        info = cols.slice(5).join(' ');
        break;
      }
    }
    const m = /Routes:\s+(\d+) imported(?:, (\d+) exported)?/.exec(out);
    const m2 = /Routes:\s+(\d+) imported.*?(\d+) exported/.exec(out);
    return {
      established: info.startsWith('Established'),
      state,
      info,
      imported: m ? Number(m[1]) : 0,
      exported: m2 ? Number(m2[2]) : 0,
    };
  }

  /** Number of routes in BIRD's master table. */
  /** True when `show bfd sessions` lists a session Up to `neighbor`. */
  async bfdUp(neighbor: string): Promise<boolean> {
    const out = await this.birdc(['show', 'bfd', 'sessions']);
    return out.split('\n').some((l) => {
      const f = l.trim().split(/\s+/);
      return f[0] === neighbor && f[2] === 'Up';
    });
  }

  async routeCount(): Promise<number> {
    const out = await this.birdc(['show', 'route', 'count']);
    const m = /(\d+) of (\d+) routes/.exec(out);
    return m ? Number(m[2]) : 0;
  }

  /** True when BIRD holds a route for exactly this prefix. */
  async hasRoute(prefix: string): Promise<boolean> {
    const r = await run('birdc', ['-s', this.ctl, 'show', 'route', prefix]);
    return r.code === 0 && r.stdout.includes(prefix);
  }

  async enable(name: string): Promise<void> {
    await this.birdc(['enable', name]);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.proc?.stop(signal);
  }
}
