// Network namespaces for one test file: a router namespace and a DUT namespace joined by a
// veth pair, with unique names (mlbt-<random>-rtr / -dut). Nothing is created in the root
// namespace. Addresses are private to these namespaces.

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { must, run } from './proc.ts';

export interface LabAddresses {
  /** Router side addresses (index 0 is the main one). */
  rtr4: string[];
  rtr6: string[];
  dut4: string[];
  dut6: string[];
}

export class Lab {
  readonly id: string;
  readonly nsRtr: string;
  readonly nsDut: string;
  readonly dir: string;
  readonly addr: LabAddresses;
  private readonly namespaces: string[] = [];
  private destroyed = false;

  /** `count` addresses per family and side: 10.201.0.1..N / 10.201.0.101.., 2001:db8:201::1.. */
  constructor(label: string, count = 2, opts: { single?: boolean } = {}) {
    this.id = randomBytes(3).toString('hex');
    this.nsRtr = `mlbt-${this.id}-rtr`;
    this.nsDut = opts.single ? this.nsRtr : `mlbt-${this.id}-dut`;
    this.dir = mkdtempSync(join(tmpdir(), `mlbt-${label}-${this.id}-`));
    chmodSync(this.dir, 0o755); // daemons that drop privileges (FRR zebra) must reach their dir
    const seq = (f: (i: number) => string): string[] => Array.from({ length: count }, (_, i) => f(i + 1));
    this.addr = {
      rtr4: seq((i) => `10.201.0.${i}`),
      dut4: seq((i) => `10.201.0.${100 + i}`),
      rtr6: seq((i) => `2001:db8:201::${i}`),
      dut6: seq((i) => `2001:db8:201::${(0x100 + i).toString(16)}`),
    };
  }

  /** Creates the namespaces, the veth pair and the addresses. */
  setup(): this {
    this.addNs(this.nsRtr);
    if (this.nsDut === this.nsRtr) return this;
    this.addNs(this.nsDut);
    must('ip', ['-n', this.nsRtr, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.nsDut]);
    for (const [ns, a4, a6] of [
      [this.nsRtr, this.addr.rtr4, this.addr.rtr6],
      [this.nsDut, this.addr.dut4, this.addr.dut6],
    ] as const) {
      must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.eth0.accept_dad=0']);
      for (const a of a4) must('ip', ['-n', ns, 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
      for (const a of a6) must('ip', ['-n', ns, '-6', 'addr', 'add', `${a}/64`, 'dev', 'eth0', 'nodad']);
      must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
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
   * namespaces and the temp dir. Safe to call twice.
   */
  destroy(keepDir = false): void {
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
    if (!keepDir && !process.env.MLBT_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
