// Network-namespace lab for the Layer 2 integration tests. Everything is created inside
// namespaces named with a per-run prefix and deleted by name afterwards; nothing is created in
// the root namespace and no traffic leaves the namespaces.
//
//   hub netns:  bridge bdata (data), bridge bmgmt (management)
//   node i:     eth0 on bdata  10.77.0.1i/24, 2001:db8:77::1i/64, MAC 02:00:00:77:00:1i
//               eth1 on bmgmt  10.78.0.1i/24,                     MAC 02:00:00:78:00:1i
//   client:     eth0 on bdata  10.77.0.100/24, 2001:db8:77::100/64
//               eth1 on bmgmt  10.78.0.100/24
// Speakers gossip over the management network; service IPs live in the data subnet.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The speakers and the client's probes run at a raised CPU priority (nice -10): the tests count
// ARP/NDP requests left unanswered for 40 ms, and on a loaded 2-core machine a speaker or arping
// starved of CPU for half a second would otherwise look like a gap in the protocol.
const PRIORITY = ['nice', '-n', '-10'];

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const MAIN = join(REPO, 'src/layer2/main.ts');

export function sh(cmd: string, args: string[], allowFail = false): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (!allowFail && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout ?? '';
}

export function missingPrerequisites(): string | null {
  if (process.platform !== 'linux') return 'Linux only';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets)';
  for (const tool of ['ip', 'arping', 'ndisc6', 'tcpdump', 'stdbuf']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed`;
  }
  if (!existsSync(join(REPO, 'build/Release/metallb_packet.node'))) return 'native addon not built (npm run build:native)';
  return null;
}

/** What a speaker's status file holds (Layer2AgentStatus, the part the tests read). */
export interface LabNodeStatus {
  owners: Record<string, string | null>;
  alive: string[];
  announcing: { ip: string; interfaces: string[] }[];
  handingOver?: { ip: string; to: string | null; remainingMs: number }[];
}

export interface NodeSpec {
  name: string;
  idx: number; // 1..3
  ns: string;
  mac0: string;
  mac1: string;
  mgmt: string;
}

export class Lab {
  readonly prefix: string;
  readonly hub: string;
  readonly client: string;
  readonly nodes: NodeSpec[];
  readonly dir: string;
  private namespaces: string[] = [];
  private procs = new Map<string, ChildProcess>();
  private others = new Set<ChildProcess>();

  constructor(tag: string, nodeCount = 3) {
    this.prefix = `l2${tag}${process.pid % 100000}`;
    this.hub = `${this.prefix}-hub`;
    this.client = `${this.prefix}-cl`;
    this.nodes = Array.from({ length: nodeCount }, (_, i) => ({
      name: `node${i + 1}`,
      idx: i + 1,
      ns: `${this.prefix}-n${i + 1}`,
      mac0: `02:00:00:77:00:1${i + 1}`,
      mac1: `02:00:00:78:00:1${i + 1}`,
      mgmt: `10.78.0.1${i + 1}`,
    }));
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
  }

  private addNs(ns: string): void {
    sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  }

  private link(ns: string, hubIf: string, bridge: string, ifname: string, mac: string, v4: string, v6?: string): void {
    sh('ip', ['-n', this.hub, 'link', 'add', hubIf, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
    sh('ip', ['-n', this.hub, 'link', 'set', hubIf, 'master', bridge, 'up']);
    if (mac) sh('ip', ['-n', ns, 'link', 'set', ifname, 'address', mac]);
    sh('ip', ['-n', ns, 'addr', 'add', v4, 'dev', ifname]);
    if (v6) sh('ip', ['-n', ns, '-6', 'addr', 'add', v6, 'dev', ifname, 'nodad']);
    sh('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
  }

  setup(): void {
    this.addNs(this.hub);
    for (const br of ['bdata', 'bmgmt']) {
      sh('ip', ['-n', this.hub, 'link', 'add', br, 'type', 'bridge']);
      sh('ip', ['netns', 'exec', this.hub, 'sysctl', '-qw', `net.ipv6.conf.${br}.disable_ipv6=1`]);
      sh('ip', ['-n', this.hub, 'link', 'set', br, 'up']);
    }
    for (const n of this.nodes) {
      this.addNs(n.ns);
      this.link(n.ns, `d${n.idx}`, 'bdata', 'eth0', n.mac0, `10.77.0.1${n.idx}/24`, `2001:db8:77::1${n.idx}/64`);
      this.link(n.ns, `m${n.idx}`, 'bmgmt', 'eth1', n.mac1, `${n.mgmt}/24`);
    }
    this.addNs(this.client);
    this.link(this.client, 'dc', 'bdata', 'eth0', '02:00:00:77:00:99', '10.77.0.100/24', '2001:db8:77::100/64');
    this.link(this.client, 'mc', 'bmgmt', 'eth1', '02:00:00:78:00:99', '10.78.0.100/24');
  }

  /** Writes the node's config file and starts its speaker; returns the PID. */
  startNode(n: NodeSpec, config: object): number {
    const cfgPath = join(this.dir, `${n.name}.json`);
    writeFileSync(cfgPath, JSON.stringify({ ...config, statusFile: join(this.dir, `${n.name}.status.json`) }));
    const out = openSync(join(this.dir, `${n.name}.log`), 'a');
    const p = spawn('ip', ['netns', 'exec', n.ns, ...PRIORITY, process.execPath, '--import', 'tsx', MAIN, '--config', cfgPath], {
      cwd: REPO,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    if (p.pid === undefined) throw new Error(`cannot start speaker for ${n.name}`);
    this.procs.set(n.name, p);
    return p.pid;
  }

  /** Rewrites the node's config file and sends its speaker SIGHUP (re-reads services and members). */
  reconfigure(n: NodeSpec, config: object): void {
    const p = this.procs.get(n.name);
    if (!p || p.exitCode !== null || p.signalCode !== null) throw new Error(`speaker of ${n.name} is not running`);
    writeFileSync(join(this.dir, `${n.name}.json`), JSON.stringify({ ...config, statusFile: join(this.dir, `${n.name}.status.json`) }));
    p.kill('SIGHUP');
  }

  status(n: NodeSpec): LabNodeStatus | null {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${n.name}.status.json`), 'utf8')) as LabNodeStatus;
    } catch {
      return null;
    }
  }

  log(n: NodeSpec): string {
    try {
      return readFileSync(join(this.dir, `${n.name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGKILL (or another signal) to the recorded speaker PID; waits for it to exit. */
  async killNode(n: NodeSpec, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.procs.get(n.name);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    await done;
    this.procs.delete(n.name);
  }

  /** Starts a background command inside a namespace (tracked and killed on teardown). */
  spawnIn(ns: string, cmd: string[], outFile?: string): ChildProcess {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
    let fd: number | undefined;
    if (outFile) {
      fd = openSync(outFile, 'w');
      stdio[1] = fd;
      stdio[2] = fd;
    }
    const p = spawn('ip', ['netns', 'exec', ns, ...PRIORITY, ...cmd], { stdio });
    if (fd !== undefined) closeSync(fd);
    this.others.add(p);
    p.once('exit', () => this.others.delete(p));
    return p;
  }

  /** A background command in a namespace whose stdout lines are collected with the time they were read. */
  streamIn(ns: string, cmd: string[]): { lines: { at: number; text: string }[]; stop(): Promise<void> } {
    const p = this.spawnIn(ns, cmd);
    const lines: { at: number; text: string }[] = [];
    let buf = '';
    p.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push({ at: Date.now(), text: buf.slice(0, i).trim().toLowerCase() });
        buf = buf.slice(i + 1);
      }
    });
    return { lines, stop: () => this.stopProc(p, 'SIGINT') };
  }

  /** tcpdump of ARP and ICMPv6 on the client's eth0 into `pcap`; resolves once it listens. */
  async captureClient(pcap: string): Promise<ChildProcess> {
    const dump = this.spawnIn(this.client, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-n', '-w', pcap, 'arp or icmp6'], `${pcap}.log`);
    await waitFor('tcpdump to listen', 10_000, () => /listening on/.test(sh('cat', [`${pcap}.log`], true)));
    return dump;
  }

  /**
   * The client asking continuously: Debian's arping every 40 ms for `v4` (a "timeout" line for a
   * request not answered before the next), ndisc6 in a loop for `v6` ("miss" when not answered
   * within 200 ms). Lines are lowercase, stamped when read.
   */
  probeClient(v4: string, v6: string): { arp: ReturnType<Lab['streamIn']>; nd: ReturnType<Lab['streamIn']> } {
    return {
      arp: this.streamIn(this.client, ['stdbuf', '-oL', 'arping', '-i', 'eth0', '-W', '0.04', v4]),
      nd: this.streamIn(this.client, ['sh', '-c', `while :; do ndisc6 -q -1 -r 1 -w 200 ${v6} eth0 || echo MISS; done`]),
    };
  }

  async stopProc(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(t);
  }

  async teardown(keepDir = false): Promise<void> {
    for (const p of [...this.procs.values(), ...this.others]) await this.stopProc(p, 'SIGKILL');
    this.procs.clear();
    for (const ns of [...this.namespaces].reverse()) sh('ip', ['netns', 'del', ns], true);
    this.namespaces = [];
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One ARP resolution from the client: the replying MACs (lowercase), possibly several. */
export function arpingOnce(ns: string, iface: string, ip: string, count = 2): string[] {
  const out = sh('ip', ['netns', 'exec', ns, 'arping', '-r', '-i', iface, '-c', String(count), '-W', '0.2', ip], true);
  return [...new Set(out.split('\n').map((l) => l.trim().toLowerCase()).filter((l) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(l)))];
}

/** The link-layer address the client's kernel neighbour table holds for `ip` (lowercase) or null. */
export function neighbourMAC(ns: string, iface: string, ip: string): string | null {
  const out = sh('ip', ['-n', ns, 'neigh', 'show', 'to', ip, 'dev', iface], true);
  const m = /lladdr ([0-9a-f:]{17})/i.exec(out);
  return m?.[1] ? m[1].toLowerCase() : null;
}

/** One ndisc6 resolution: the target link-layer address (lowercase) or null. */
export function ndiscOnce(ns: string, iface: string, ip: string): string | null {
  const out = sh('ip', ['netns', 'exec', ns, 'ndisc6', '-1', '-r', '3', '-w', '300', ip, iface], true);
  const m = /Target link-layer address: ([0-9A-Fa-f:]{17})/.exec(out);
  return m?.[1] ? m[1].toLowerCase() : null;
}

/** Polls `fn` until it returns a truthy value or `ms` passes. */
export async function waitFor<T>(what: string, ms: number, fn: () => T | null | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}
