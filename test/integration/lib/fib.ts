// Watches a router namespace's kernel FIB (the routes the router really forwards with): a Node
// process inside the namespace prints a timestamp and every IPv4/IPv6 route of the main table
// every `intervalMs`, and `ip monitor route` records every change as a second witness. Used by the
// graceful restart tests to prove a route never left the FIB.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface FibSample {
  /** ms since epoch (from the namespace's clock, sub-ms precision). */
  at: number;
  /** Route destinations present (e.g. "203.0.113.1", "2001:db8::/64"). */
  routes: Set<string>;
}

export interface Gap {
  from: number;
  to: number;
}

export class FibWatcher {
  readonly samples: FibSample[] = [];
  /** `ip monitor route` lines with our receive time. */
  readonly events: { at: number; line: string }[] = [];
  private poll: ChildProcess | undefined;
  private monitor: ChildProcess | undefined;

  constructor(
    readonly ns: string,
    readonly intervalMs = 15,
  ) {}

  start(): void {
    // a small Node process inside the namespace reads /proc/net/route and /proc/net/ipv6_route
    // (the namespace's main table) every intervalMs: no fork per sample
    const script = `
const fs = require('node:fs');
const v4 = (h) => [3, 2, 1, 0].map((i) => parseInt(h.slice(i * 2, i * 2 + 2), 16)).join('.');
const bits = (h) => { let n = 0; for (let x = parseInt(h, 16) >>> 0; x; x &= x - 1) n++; return n; };
const v6 = (h) => h.match(/.{4}/g).map((g) => parseInt(g, 16).toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
setInterval(() => {
  const out = [];
  for (const l of fs.readFileSync('/proc/net/route', 'utf8').split('\\n').slice(1)) {
    const f = l.trim().split(/\\s+/);
    if (f.length > 7) out.push(bits(f[7]) === 32 ? v4(f[1]) : v4(f[1]) + '/' + bits(f[7]));
  }
  for (const l of fs.readFileSync('/proc/net/ipv6_route', 'utf8').split('\\n')) {
    const f = l.trim().split(/\\s+/);
    if (f.length > 9) { const len = parseInt(f[1], 16); out.push(len === 128 ? v6(f[0]) : v6(f[0]) + '/' + len); }
  }
  process.stdout.write((performance.timeOrigin + performance.now()).toFixed(3) + ' ' + out.join(' ') + '\\n');
}, ${this.intervalMs});`;
    this.poll = spawn('ip', ['netns', 'exec', this.ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = createInterface({ input: this.poll.stdout as NodeJS.ReadableStream });
    rl.on('line', (l) => {
      const [t, ...routes] = l.trim().split(/\s+/);
      const at = Number(t);
      if (Number.isFinite(at)) this.samples.push({ at, routes: new Set(routes.filter(Boolean)) });
    });
    this.monitor = spawn('ip', ['-n', this.ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const rm = createInterface({ input: this.monitor.stdout as NodeJS.ReadableStream });
    rm.on('line', (line) => this.events.push({ at: Date.now(), line }));
  }

  /** Stops both processes (by their own handles). */
  async stop(): Promise<void> {
    for (const p of [this.poll, this.monitor]) {
      if (!p || p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    this.poll = undefined;
    this.monitor = undefined;
  }

  /** Intervals (between samples) in which `dest` was absent, within [from, to]. */
  gaps(dest: string, from = 0, to = Infinity): Gap[] {
    const out: Gap[] = [];
    let open: number | undefined;
    for (const s of this.samples) {
      if (s.at < from || s.at > to) continue;
      const present = s.routes.has(dest);
      if (!present && open === undefined) open = s.at;
      if (present && open !== undefined) {
        out.push({ from: open, to: s.at });
        open = undefined;
      }
    }
    if (open !== undefined) out.push({ from: open, to: Infinity });
    return out;
  }

  /** `ip monitor` lines deleting `dest`. */
  deletions(dest: string): string[] {
    return this.events.filter((e) => e.line.startsWith('Deleted') && e.line.split(/\s+/)[1] === dest).map((e) => e.line);
  }

  /** Largest interval between consecutive samples in [from, to] (the sampling resolution reached). */
  maxInterval(from = 0, to = Infinity): number {
    let max = 0;
    let prev: number | undefined;
    for (const s of this.samples) {
      if (s.at < from || s.at > to) continue;
      if (prev !== undefined) max = Math.max(max, s.at - prev);
      prev = s.at;
    }
    return max;
  }

  has(dest: string): boolean {
    return this.samples.at(-1)?.routes.has(dest) ?? false;
  }
}
