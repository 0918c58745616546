// Network namespaces for one test file: a router namespace and N DUT namespaces, each DUT
// joined to the router by its own veth pair (router side ethI, DUT side eth0), with unique
// names (mlbt-<random>-rtr / -dut0 / -dut1 ...). Nothing is created in the root namespace.
// Addresses (private to these namespaces), for DUT i:
//   router 10.201.i.1/24 and 2001:db8:201:i::1/64, DUT 10.201.i.101/24 and 2001:db8:201:i::101/64
// With `single`, there is one namespace only (router and DUT share its loopback). With
// `linkLocalOnly`, the veths carry only their IPv6 link-local addresses (unnumbered BGP).

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { must, run } from './proc.ts';
import { canonicalIP } from '../../../src/ip/index.ts';

export interface LabAddresses {
  /** Router side address facing DUT i. */
  rtr4: string[];
  rtr6: string[];
  /** DUT i's address. */
  dut4: string[];
  dut6: string[];
}

export class Lab {
  readonly id: string;
  readonly nsRtr: string;
  /** DUT namespaces (index i). */
  readonly duts: string[];
  readonly dir: string;
  readonly addr: LabAddresses;
  private readonly namespaces: string[] = [];
  private destroyed = false;

  private readonly linkLocalOnly: boolean;

  /** `linkLocalOnly`: the veth pairs get no addresses (only the kernel's IPv6 link-local ones). */
  constructor(label: string, opts: { duts?: number; single?: boolean; linkLocalOnly?: boolean } = {}) {
    this.linkLocalOnly = opts.linkLocalOnly === true;
    this.id = randomBytes(3).toString('hex');
    this.nsRtr = `mlbt-${this.id}-rtr`;
    const n = opts.single ? 0 : (opts.duts ?? 1);
    this.duts = opts.single ? [this.nsRtr] : Array.from({ length: n }, (_, i) => `mlbt-${this.id}-dut${i}`);
    this.dir = mkdtempSync(join(tmpdir(), `mlbt-${label}-${this.id}-`));
    chmodSync(this.dir, 0o755); // daemons that drop privileges (FRR zebra) must reach their dir
    const seq = (f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
    this.addr = {
      rtr4: seq((i) => `10.201.${i}.1`),
      dut4: seq((i) => `10.201.${i}.101`),
      rtr6: seq((i) => canonicalIP(`2001:db8:201:${i.toString(16)}::1`) ?? ''),
      dut6: seq((i) => canonicalIP(`2001:db8:201:${i.toString(16)}::101`) ?? ''),
    };
  }

  get nsDut(): string {
    return this.duts[0] ?? this.nsRtr;
  }

  /** Creates the namespaces, veth pairs and addresses. Cleans up after itself on failure. */
  setup(): this {
    try {
      this.addNs(this.nsRtr);
      if (this.duts[0] === this.nsRtr) return this;
      must('ip', ['netns', 'exec', this.nsRtr, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
      this.duts.forEach((ns, i) => {
        this.addNs(ns);
        const rif = `eth${i}`;
        must('ip', ['-n', this.nsRtr, 'link', 'add', rif, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
        for (const [n, ifname, a4, a6] of [
          [this.nsRtr, rif, this.addr.rtr4[i], this.addr.rtr6[i]],
          [ns, 'eth0', this.addr.dut4[i], this.addr.dut6[i]],
        ] as const) {
          if (!this.linkLocalOnly) {
            must('ip', ['-n', n, 'addr', 'add', `${a4}/24`, 'dev', ifname]);
            must('ip', ['-n', n, '-6', 'addr', 'add', `${a6}/64`, 'dev', ifname, 'nodad']);
          }
          must('ip', ['-n', n, 'link', 'set', ifname, 'up']);
        }
      });
    } catch (e) {
      this.destroy();
      throw e;
    }
    return this;
  }

  private addNs(ns: string): void {
    must('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** Runs a command inside a namespace (throws on failure). */
  exec(ns: string, cmd: string, args: string[]): string {
    return must('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  /**
   * Kills every process still inside our namespaces (by PID, TERM then KILL), deletes the
   * namespaces and the temp dir (kept when MLBT_KEEP is set). Safe to call twice.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const sig of ['-TERM', '-KILL']) {
      for (const ns of this.namespaces) {
        const pids = run('ip', ['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean);
        for (const pid of pids) run('kill', [sig, pid]);
      }
      if (sig === '-TERM') run('sleep', ['0.2']);
    }
    for (const ns of this.namespaces) run('ip', ['netns', 'del', ns]);
    if (!process.env.MLBT_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
