// Real BGP routers (BIRD 2, FRR bgpd, GoBGP) as test peers inside a namespace: configuration
// generated into the test's temp dir, control sockets there, processes tracked by PID. Routes
// are read back from each router's own CLI and normalized into RouterRoute.

import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Managed } from './proc.ts';
import { run, runAsync, startProcess, waitFor } from './proc.ts';

export type RouterKind = 'bird' | 'frr' | 'gobgp';

export interface RouterRoute {
  /** Neighbor address the route came from. */
  peer: string;
  prefix: string;
  nextHop: string | null;
  asPath: number[];
  localPref: number | null;
  med: number | null;
  origin: string | null;
  /** "A:B", sorted numerically. */
  communities: string[];
  /** "A:B:C", sorted numerically. */
  largeCommunities: string[];
}

export interface NeighborSpec {
  /** Protocol/description name (letters, digits, _). */
  name: string;
  address: string;
  asn: number;
  /** Wait for the speaker to connect (default true). */
  passive?: boolean;
  multihop?: boolean;
  /** Families carried (default: the transport family). */
  families?: (4 | 6)[];
  /** Router-side address of the session (default: the router's first address of that family). */
  localAddress?: string;
  /** Hold time the router offers (seconds). */
  holdTime?: number;
  /** FRR only: IPv4 prefix-list applied inbound (seed 002). */
  prefixList?: { prefix: string; ge: number; le: number };
  /** FRR only (needs RouterOptions.bfd): `neighbor X bfd profile mlbt`. */
  bfd?: boolean;
  /**
   * FRR only: `address` is an interface name, `neighbor IF interface remote-as ASN|external|internal`
   * (unnumbered: the peer's link-local address is learned from its RAs; zebra sends ours). Not
   * passive; both families by default.
   */
  interface?: { remoteAs?: 'external' | 'internal' };
}

/** FRR bfdd: profile `mlbt` and static BFD peers (RFC 5881/5883). */
export interface FrrBfdOptions {
  receiveMs: number;
  transmitMs: number;
  detectMultiplier: number;
  passive?: boolean;
  /** Peers configured in bfdd itself (BFD without BGP). */
  peers?: { address: string; local: string; multihop?: boolean; minimumTtl?: number; iface?: string }[];
}

export interface RouterOptions {
  ns: string;
  /** Working dir (config, sockets, logs) - created. */
  dir: string;
  asn: number;
  routerId: string;
  /** Addresses the router listens on / uses as local addresses. */
  listen4: string[];
  listen6: string[];
  neighbors: NeighborSpec[];
  /** FRR: run zebra too (needed for IPv6 next hops with a link-local part). */
  zebra?: boolean;
  /** FRR: run bfdd (and zebra) with this profile. */
  bfd?: FrrBfdOptions;
  /**
   * Install the best BGP routes into the namespace's kernel FIB (FRR: zebra and bgpd without
   * -n; BIRD: a kernel protocol exporting everything).
   */
  kernelFib?: boolean;
  /** Graceful restart (RFC 4724) on the router (FRR `bgp graceful-restart`, BIRD `graceful restart on`). */
  gracefulRestart?: boolean;
  /** FRR: extra lines under `router bgp` (e.g. `bgp bestpath bandwidth skip-missing`). */
  frrRouterLines?: string[];
  /** FRR: extra lines in every address family (e.g. `maximum-paths 4`). */
  frrAddressFamilyLines?: string[];
  /** FRR: prefixes originated from the configuration file (`network P` in its family), so they are there again after a restart. */
  frrNetworks?: string[];
}

const numKey = (s: string): number[] => s.split(':').map(Number);
function sortComm(list: string[]): string[] {
  return [...new Set(list)].sort((a, b) => {
    const x = numKey(a);
    const y = numKey(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  });
}

function mkRoute(r: Partial<RouterRoute> & { peer: string; prefix: string }): RouterRoute {
  return {
    nextHop: null,
    asPath: [],
    localPref: null,
    med: null,
    origin: null,
    ...r,
    communities: sortComm(r.communities ?? []),
    largeCommunities: sortComm(r.largeCommunities ?? []),
  };
}

const family = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);

export abstract class Router {
  abstract readonly kind: RouterKind;
  protected procs: Managed[] = [];
  constructor(readonly opts: RouterOptions) {
    mkdirSync(opts.dir, { recursive: true });
  }
  protected localFor(n: NeighborSpec): string {
    if (n.localAddress) return n.localAddress;
    const l = family(n.address) === 6 ? this.opts.listen6[0] : this.opts.listen4[0];
    if (!l) throw new Error(`${this.kind}: no local address of the family of ${n.address}`);
    return l;
  }
  protected nsExec(cmd: string, args: string[]): string[] {
    return ['netns', 'exec', this.opts.ns, cmd, ...args];
  }
  pids(): number[] {
    return this.procs.filter((p) => p.alive()).map((p) => p.pid);
  }
  abstract start(): Promise<void>;
  async stop(): Promise<void> {
    for (const p of this.procs.reverse()) await p.stop(3000);
    this.procs = [];
  }
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
  /** Kills the router with SIGKILL (no NOTIFICATION to the peers). */
  async kill(): Promise<void> {
    for (const p of this.procs) p.signal('SIGKILL');
    for (const p of this.procs) await p.waitExit(3000);
    this.procs = [];
  }
  abstract routes(): Promise<RouterRoute[]>;
  /** Neighbor address -> session state name (lowercase, e.g. "established"). */
  abstract states(): Promise<Record<string, string>>;
  async waitEstablished(addresses: string[], timeoutMs = 30000): Promise<void> {
    await waitFor(
      `${this.kind} sessions to ${addresses.join(', ')} Established`,
      async () => {
        const st = await this.states();
        return addresses.every((a) => st[a] === 'established') ? true : undefined;
      },
      timeoutMs,
      100,
    );
  }
  /** Polls until `pred(routes)` holds; returns the routes. */
  async waitRoutes(what: string, pred: (r: RouterRoute[]) => boolean, timeoutMs = 20000): Promise<RouterRoute[]> {
    let last: RouterRoute[] = [];
    try {
      return await waitFor(
        what,
        async () => {
          last = await this.routes();
          return pred(last) ? last : undefined;
        },
        timeoutMs,
        50,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.kind} routes now: ${JSON.stringify(last, null, 1)}`, { cause: e });
    }
  }
}

// ------------------------------------------------------------------------------------ BIRD 2

export class Bird extends Router {
  readonly kind = 'bird' as const;
  get ctl(): string {
    return join(this.opts.dir, 'bird.ctl');
  }
  config(): string {
    const o = this.opts;
    const lines = [
      `log "${join(o.dir, 'bird.log')}" all;`,
      `router id ${o.routerId};`,
      'protocol device { scan time 10; }',
      'protocol direct { ipv4; ipv6; interface "*"; }',
    ];
    if (o.kernelFib) {
      lines.push('protocol kernel { ipv4 { export where source = RTS_BGP; }; learn off; persist off; }');
      lines.push('protocol kernel { ipv6 { export where source = RTS_BGP; }; learn off; persist off; }');
    }
    for (const n of o.neighbors) {
      const fams = n.families ?? [family(n.address)];
      lines.push(`protocol bgp ${n.name} {`);
      lines.push(`  local ${this.localFor(n)} as ${o.asn};`);
      lines.push(`  neighbor ${n.address} as ${n.asn};`);
      lines.push('  strict bind on;');
      if (n.passive ?? true) lines.push('  passive on;');
      if (n.multihop) lines.push('  multihop;');
      if (n.holdTime !== undefined) lines.push(`  hold time ${n.holdTime};`);
      if (o.gracefulRestart) lines.push('  graceful restart on;');
      lines.push('  connect delay time 1; connect retry time 1; error wait time 1, 2;');
      for (const f of fams) lines.push(`  ipv${f} { import all; export none; };`);
      lines.push('}');
    }
    return lines.join('\n') + '\n';
  }
  async start(): Promise<void> {
    const conf = join(this.opts.dir, 'bird.conf');
    writeFileSync(conf, this.config());
    rmSync(this.ctl, { force: true });
    const check = run('ip', this.nsExec('bird', ['-p', '-c', conf]));
    if (check.status !== 0) throw new Error(`bad BIRD config ${conf}: ${check.stderr}`);
    this.procs.push(
      startProcess('bird', 'ip', this.nsExec('bird', ['-f', '-c', conf, '-s', this.ctl, '-P', join(this.opts.dir, 'bird.pid')]), join(this.opts.dir, 'bird.out')),
    );
    await waitFor('BIRD control socket', async () => ((await runAsync('birdc', ['-s', this.ctl, 'show', 'status'])).status === 0 ? true : undefined), 10000, 50);
  }
  async birdc(cmd: string): Promise<string> {
    const r = await runAsync('birdc', ['-s', this.ctl, cmd]);
    if (r.status !== 0) throw new Error(`birdc ${cmd}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }
  async states(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const n of this.opts.neighbors) {
      const text = await this.birdc(`show protocols ${n.name}`);
      const line = text.split('\n').find((l) => l.startsWith(n.name + ' ')) ?? '';
      out[n.address] = /Established/.test(line) ? 'established' : (line.trim().split(/\s+/).pop() ?? '').toLowerCase();
    }
    return out;
  }
  async routes(): Promise<RouterRoute[]> {
    const text = await this.birdc('show route all where source = RTS_BGP');
    return parseBirdRoutes(text, Object.fromEntries(this.opts.neighbors.map((n) => [n.name, n.address])));
  }
}

/** Parses `birdc show route all` (BIRD 2.0) output. `names` maps protocol name -> neighbor. */
export function parseBirdRoutes(text: string, names: Record<string, string>): RouterRoute[] {
  const out: RouterRoute[] = [];
  let cur: (Partial<RouterRoute> & { peer: string; prefix: string; bgp?: boolean }) | undefined;
  let prefix = '';
  let lastAttr = '';
  const head = /^(\S+)?\s+(unicast|unreachable|blackhole|prohibit)\s+\[(\S+)\s[^\]]*\]/;
  const flush = (): void => {
    if (cur?.bgp) {
      const { bgp: _b, ...r } = cur;
      out.push(mkRoute(r));
    }
    cur = undefined;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('Table ') || line.startsWith('BIRD ') || !line.trim()) continue;
    const m = head.exec(line);
    if (m) {
      flush();
      if (m[1]) prefix = m[1];
      const proto = m[3] ?? '';
      cur = { peer: names[proto] ?? proto, prefix, bgp: false };
      continue;
    }
    if (!cur) continue;
    let val: string;
    if (line.startsWith('\t\t') && lastAttr) val = line.trim();
    else {
      const a = /^\s+(BGP\.\w+|Type):\s?(.*)$/.exec(line);
      if (!a) continue;
      lastAttr = a[1] ?? '';
      val = (a[2] ?? '').trim();
    }
    switch (lastAttr) {
      case 'Type':
        cur.bgp = val.startsWith('BGP');
        break;
      case 'BGP.origin':
        cur.origin = val.toLowerCase();
        break;
      case 'BGP.as_path':
        cur.asPath = [...(cur.asPath ?? []), ...(val.match(/\d+/g) ?? []).map(Number)];
        break;
      case 'BGP.next_hop':
        cur.nextHop = val.split(/\s+/)[0] ?? null;
        break;
      case 'BGP.local_pref':
        cur.localPref = Number(val);
        break;
      case 'BGP.med':
        cur.med = Number(val);
        break;
      case 'BGP.community':
        cur.communities = [...(cur.communities ?? []), ...[...val.matchAll(/\((\d+),\s*(\d+)\)/g)].map((x) => `${x[1]}:${x[2]}`)];
        break;
      case 'BGP.large_community':
        cur.largeCommunities = [
          ...(cur.largeCommunities ?? []),
          ...[...val.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((x) => `${x[1]}:${x[2]}:${x[3]}`),
        ];
        break;
    }
  }
  flush();
  return out;
}

// ------------------------------------------------------------------------------------ FRR

const FRR_WELLKNOWN: Record<string, string> = {
  internet: '0:0',
  gracefulShutdown: '65535:0',
  acceptown: '65535:1',
  llgrStale: '65535:6',
  noLlgr: '65535:7',
  blackhole: '65535:666',
  noExport: '65535:65281',
  noAdvertise: '65535:65282',
  localAs: '65535:65283',
  noPeer: '65535:65284',
};

export class Frr extends Router {
  readonly kind = 'frr' as const;
  config(): string {
    const o = this.opts;
    const l = ['frr defaults traditional', 'hostname mlbt-frr', `log file ${join(o.dir, 'bgpd.log')} informational`, '!'];
    for (const n of o.neighbors) {
      if (n.prefixList) {
        const p = n.prefixList;
        l.push(`ip prefix-list PL_${n.name} seq 1 permit ${p.prefix} ge ${p.ge} le ${p.le}`);
        l.push(`route-map RM_${n.name} permit 1`, ` match ip address prefix-list PL_${n.name}`, '!');
      }
    }
    l.push(`router bgp ${o.asn}`, ` bgp router-id ${o.routerId}`, ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast', ' no bgp network import-check');
    if (o.gracefulRestart) l.push(' bgp graceful-restart');
    for (const n of o.neighbors) {
      if (n.interface) {
        l.push(` neighbor ${n.address} interface remote-as ${n.interface.remoteAs ?? n.asn}`);
        l.push(` neighbor ${n.address} description ${n.name}`);
      } else {
        l.push(` neighbor ${n.address} remote-as ${n.asn}`);
        l.push(` neighbor ${n.address} description ${n.name}`);
        l.push(` neighbor ${n.address} update-source ${this.localFor(n)}`);
      }
      if (n.passive ?? !n.interface) l.push(` neighbor ${n.address} passive`);
      if (n.multihop) l.push(` neighbor ${n.address} ebgp-multihop 255`);
      l.push(` neighbor ${n.address} timers connect 1`);
      if (n.bfd) l.push(` neighbor ${n.address} bfd profile mlbt`);
      if (n.holdTime !== undefined) l.push(` neighbor ${n.address} timers ${Math.max(1, Math.floor(n.holdTime / 3))} ${n.holdTime}`);
    }
    for (const x of o.frrRouterLines ?? []) l.push(` ${x}`);
    for (const f of [4, 6] as const) {
      l.push(` address-family ipv${f} unicast`);
      for (const x of o.frrAddressFamilyLines ?? []) l.push(`  ${x}`);
      for (const p of o.frrNetworks ?? []) if (family(p) === f) l.push(`  network ${p}`);
      for (const n of o.neighbors) {
        if (!(n.families ?? (n.interface ? [4, 6] : [family(n.address)])).includes(f)) continue;
        l.push(`  neighbor ${n.address} activate`);
        if (n.prefixList && f === 4) l.push(`  neighbor ${n.address} route-map RM_${n.name} in`);
      }
      l.push(' exit-address-family');
    }
    l.push('!');
    return l.join('\n') + '\n';
  }
  bfddConfig(b: FrrBfdOptions): string {
    const l = ['hostname mlbt-frr', `log file ${join(this.opts.dir, 'bfdd.log')} informational`, '!', 'bfd', ' profile mlbt'];
    l.push(`  receive-interval ${b.receiveMs}`, `  transmit-interval ${b.transmitMs}`, `  detect-multiplier ${b.detectMultiplier}`);
    if (b.passive) l.push('  passive-mode');
    l.push(' exit');
    for (const p of b.peers ?? []) {
      l.push(` peer ${p.address}${p.multihop ? ' multihop' : ''} local-address ${p.local}${p.iface ? ` interface ${p.iface}` : ''}`, '  profile mlbt');
      if (p.minimumTtl !== undefined) l.push(`  minimum-ttl ${p.minimumTtl}`);
      l.push(' exit');
    }
    l.push('exit', '!');
    return l.join('\n') + '\n';
  }
  private vtyArgs(daemon = 'bgpd'): string[] {
    return ['--vty_socket', this.opts.dir, '--config_dir', this.opts.dir, '-d', daemon];
  }
  /** `show bfd peers json` from bfdd. */
  async bfdPeers(): Promise<FrrBfdPeer[]> {
    const r = await runAsync('vtysh', [...this.vtyArgs('bfdd'), '-c', 'show bfd peers json']);
    if (r.status !== 0) throw new Error(`vtysh -d bfdd: ${r.stderr || r.stdout}`);
    return JSON.parse(r.stdout) as FrrBfdPeer[];
  }
  /** The PID of one of FRR's daemons (for SIGSTOP/SIGCONT in tests). */
  daemon(name: 'zebra' | 'bfdd' | 'bgpd'): Managed {
    const p = this.procs.find((x) => x.name === name && x.alive());
    if (!p) throw new Error(`FRR ${name} is not running`);
    return p;
  }
  async vtysh(cmd: string): Promise<string> {
    const r = await runAsync('vtysh', [...this.vtyArgs(), '-c', cmd]);
    if (r.status !== 0) throw new Error(`vtysh -c '${cmd}': ${r.stderr || r.stdout}`);
    return r.stdout;
  }
  /** A vtysh command for zebra (the RIB and what it installed in the kernel); needs `zebra: true`. */
  async zebraVtysh(cmd: string): Promise<string> {
    const r = await runAsync('vtysh', [...this.vtyArgs('zebra'), '-c', cmd]);
    if (r.status !== 0) throw new Error(`vtysh -d zebra -c '${cmd}': ${r.stderr || r.stdout}`);
    return r.stdout;
  }
  /** Runs these configuration commands in one vtysh call (after `configure terminal`). */
  async configure(lines: string[]): Promise<void> {
    const r = await runAsync('vtysh', [...this.vtyArgs(), ...['configure terminal', ...lines].flatMap((c) => ['-c', c])]);
    if (r.status !== 0) throw new Error(`vtysh configure: ${r.stderr || r.stdout}`);
  }
  /** Originates (or with `withdraw`, stops originating) these prefixes from `router bgp`. */
  async network(prefixes: string[], withdraw = false): Promise<void> {
    const cmds = ['configure terminal', `router bgp ${this.opts.asn}`];
    for (const f of [4, 6]) {
      const mine = prefixes.filter((p) => (p.includes(':') ? 6 : 4) === f);
      if (mine.length === 0) continue;
      cmds.push(`address-family ipv${f} unicast`, ...mine.map((p) => `${withdraw ? 'no ' : ''}network ${p}`), 'exit-address-family');
    }
    const r = await runAsync('vtysh', [...this.vtyArgs(), ...cmds.flatMap((c) => ['-c', c])]);
    if (r.status !== 0) throw new Error(`vtysh network: ${r.stderr || r.stdout}`);
  }
  async start(): Promise<void> {
    const d = this.opts.dir;
    const conf = join(d, 'bgpd.conf');
    writeFileSync(conf, this.config());
    writeFileSync(join(d, 'vtysh.conf'), '');
    for (const f of ['bgpd.vty', 'bgpd.pid', 'zebra.vty', 'zebra.pid', 'zserv.api', 'bfdd.vty', 'bfdd.pid', 'bfdd.sock']) rmSync(join(d, f), { force: true });
    let zopt = ['-Z', '-n'];
    if (this.opts.zebra || this.opts.bfd || this.opts.kernelFib) {
      const zs = join(d, 'zserv.api');
      writeFileSync(join(d, 'zebra.conf'), `hostname mlbt-frr\nlog file ${join(d, 'zebra.log')} informational\n`);
      writeFileSync(join(d, 'zebra.log'), '');
      // zebra drops to user frr: let it use our dir
      const uid = Number(run('id', ['-u', 'frr']).stdout.trim());
      const gid = Number(run('id', ['-g', 'frr']).stdout.trim());
      if (Number.isInteger(uid) && Number.isInteger(gid)) {
        chownSync(d, uid, gid);
        chownSync(join(d, 'zebra.log'), uid, gid);
      }
      this.procs.push(
        startProcess(
          'zebra',
          'ip',
          this.nsExec('/usr/lib/frr/zebra', ['-f', join(d, 'zebra.conf'), '-i', join(d, 'zebra.pid'), '--vty_socket', d, '-z', zs, '-u', 'frr', '-g', 'frr', '-P', '0']),
          join(d, 'zebra.out'),
        ),
      );
      await waitFor('zebra zserv socket', () => (existsSync(zs) ? true : undefined), 10000, 50);
      zopt = ['-z', zs, ...(this.opts.kernelFib ? [] : ['-n'])];
      if (this.opts.bfd) {
        const bconf = join(d, 'bfdd.conf');
        writeFileSync(bconf, this.bfddConfig(this.opts.bfd));
        // bfdd must run as frr: vtysh reaches it through the frrvty group.
        this.procs.push(
          startProcess(
            'bfdd',
            'ip',
            this.nsExec('/usr/lib/frr/bfdd', ['-f', bconf, '-i', join(d, 'bfdd.pid'), '--vty_socket', d, '-z', zs, '-u', 'frr', '-g', 'frr', '-P', '0', '--bfdctl', join(d, 'bfdd.sock')]),
            join(d, 'bfdd.out'),
          ),
        );
        await waitFor('bfdd vty', async () => ((await runAsync('vtysh', [...this.vtyArgs('bfdd'), '-c', 'show bfd peers'])).status === 0 ? true : undefined), 15000, 100);
      }
    }
    const listen = [...this.opts.listen4, ...this.opts.listen6].flatMap((a) => ['-l', a]);
    this.procs.push(
      startProcess(
        'bgpd',
        'ip',
        this.nsExec('/usr/lib/frr/bgpd', ['-f', conf, '-i', join(d, 'bgpd.pid'), '--vty_socket', d, ...zopt, '-S', '-P', '0', ...listen]),
        join(d, 'bgpd.out'),
      ),
    );
    await waitFor('bgpd vty', async () => ((await runAsync('vtysh', [...this.vtyArgs(), '-c', 'show bgp summary'])).status === 0 ? true : undefined), 15000, 100);
  }
  async states(): Promise<Record<string, string>> {
    const doc = JSON.parse(await this.vtysh('show bgp neighbors json')) as Record<string, { bgpState?: string }>;
    const out: Record<string, string> = {};
    for (const [addr, v] of Object.entries(doc)) if (v && typeof v === 'object' && v.bgpState) out[addr] = v.bgpState.toLowerCase();
    return out;
  }
  async routes(): Promise<RouterRoute[]> {
    const out: RouterRoute[] = [];
    for (const afi of ['ipv4', 'ipv6']) out.push(...parseFrrRoutes(await this.vtysh(`show bgp ${afi} unicast json detail`)));
    return out;
  }
}

/** One entry of FRR's `show bfd peers json`. */
export interface FrrBfdPeer {
  peer: string;
  local?: string;
  multihop: boolean;
  status: 'up' | 'down' | 'init' | 'shutdown' | string;
  diagnostic?: string;
  'remote-id'?: number;
  'receive-interval'?: number;
  'transmit-interval'?: number;
  'remote-receive-interval'?: number;
  'remote-transmit-interval'?: number;
  'detect-multiplier'?: number;
  'remote-detect-multiplier'?: number;
}

interface FrrPath {
  aspath?: { segments?: { type?: string; list?: number[] }[] };
  nexthops?: { ip?: string; scope?: string }[];
  community?: { list?: string[] };
  largeCommunity?: { list?: string[] };
  locPrf?: number;
  localpref?: number;
  metric?: number;
  med?: number;
  origin?: string;
  peer?: { peerId?: string };
}

export function parseFrrRoutes(text: string): RouterRoute[] {
  const out: RouterRoute[] = [];
  if (!text.trim()) return out;
  const doc = JSON.parse(text) as { routes?: Record<string, unknown> };
  for (const [prefix, v] of Object.entries(doc.routes ?? {})) {
    const paths: FrrPath[] = Array.isArray(v)
      ? (v as FrrPath[]).filter((p) => p && typeof p === 'object' && ('nexthops' in p || 'aspath' in p || 'peer' in p))
      : (((v as { paths?: FrrPath[] }).paths ?? []) as FrrPath[]);
    for (const p of paths) {
      const peer = p.peer?.peerId;
      if (!peer || peer === '0.0.0.0' || peer === '::') continue;
      const asPath = (p.aspath?.segments ?? []).flatMap((s) => s.list ?? []);
      const nh = (p.nexthops ?? []).find((n) => (n.scope ?? 'global') === 'global')?.ip ?? null;
      out.push(
        mkRoute({
          peer,
          prefix,
          nextHop: nh,
          asPath,
          localPref: p.locPrf ?? p.localpref ?? null,
          med: p.metric ?? p.med ?? null,
          origin: p.origin ? p.origin.toLowerCase() : null,
          communities: (p.community?.list ?? []).map((c) => FRR_WELLKNOWN[c] ?? c),
          largeCommunities: p.largeCommunity?.list ?? [],
        }),
      );
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------ GoBGP

export class GoBgp extends Router {
  readonly kind = 'gobgp' as const;
  get sock(): string {
    return join(this.opts.dir, 'api.sock');
  }
  config(): string {
    const o = this.opts;
    const l = ['[global.config]', `  as = ${o.asn}`, `  router-id = "${o.routerId}"`, `  local-address-list = [${[...o.listen4, ...o.listen6].map((a) => `"${a}"`).join(', ')}]`];
    for (const n of o.neighbors) {
      l.push('', '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${n.address}"`, `    peer-as = ${n.asn}`, `    description = "${n.name}"`);
      l.push('  [neighbors.transport.config]', `    local-address = "${this.localFor(n)}"`, `    passive-mode = ${n.passive ?? true}`);
      l.push('  [neighbors.timers.config]', '    connect-retry = 1');
      if (n.holdTime !== undefined) l.push(`    hold-time = ${n.holdTime}`, `    keepalive-interval = ${Math.max(1, Math.floor(n.holdTime / 3))}`);
      if (n.multihop) l.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', '    multihop-ttl = 255');
      for (const f of n.families ?? [family(n.address)]) {
        l.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "ipv${f}-unicast"`);
      }
    }
    return l.join('\n') + '\n';
  }
  async gobgp(args: string[]): Promise<string> {
    const r = await runAsync('gobgp', ['--target', `unix://${this.sock}`, ...args]);
    if (r.status !== 0) throw new Error(`gobgp ${args.join(' ')}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }
  async start(): Promise<void> {
    const conf = join(this.opts.dir, 'gobgpd.toml');
    writeFileSync(conf, this.config());
    rmSync(this.sock, { force: true });
    this.procs.push(
      startProcess(
        'gobgpd',
        'ip',
        this.nsExec('gobgpd', ['-f', conf, '-p', '-l', 'info', '--api-hosts', `unix://${this.sock}`, '--pprof-disable']),
        join(this.opts.dir, 'gobgpd.log'),
      ),
    );
    await waitFor('gobgpd API', async () => ((await runAsync('gobgp', ['--target', `unix://${this.sock}`, 'global'])).status === 0 ? true : undefined), 15000, 100);
  }
  async states(): Promise<Record<string, string>> {
    const doc = JSON.parse(await this.gobgp(['-j', 'neighbor'])) as { state?: { neighbor_address?: string; session_state?: number | string } }[];
    const names = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];
    const out: Record<string, string> = {};
    for (const n of doc ?? []) {
      const a = n.state?.neighbor_address;
      const s = n.state?.session_state;
      if (a) out[a] = typeof s === 'number' ? (names[s] ?? String(s)) : String(s ?? '').toLowerCase();
    }
    return out;
  }
  async routes(): Promise<RouterRoute[]> {
    const out: RouterRoute[] = [];
    for (const afi of ['ipv4', 'ipv6']) out.push(...parseGoBgpRoutes(await this.gobgp(['-j', 'global', 'rib', '-a', afi])));
    return out;
  }
}

interface GoBgpAttr {
  type?: number;
  value?: unknown;
  nexthop?: string;
  metric?: number;
  as_paths?: { segment_type?: number; asns?: number[] }[];
  communities?: number[];
}

export function parseGoBgpRoutes(text: string): RouterRoute[] {
  const out: RouterRoute[] = [];
  if (!text.trim()) return out;
  const doc = JSON.parse(text) as Record<string, { 'neighbor-ip'?: string; attrs?: GoBgpAttr[] }[]> | null;
  const origins = ['igp', 'egp', 'incomplete'];
  for (const [prefix, paths] of Object.entries(doc ?? {})) {
    for (const p of paths ?? []) {
      const peer = p['neighbor-ip'];
      if (!peer) continue;
      const r: Partial<RouterRoute> & { peer: string; prefix: string } = { peer, prefix };
      for (const a of p.attrs ?? []) {
        switch (a.type) {
          case 1:
            r.origin = origins[Number(a.value)] ?? null;
            break;
          case 2:
            r.asPath = (a.as_paths ?? []).flatMap((s) => s.asns ?? []);
            break;
          case 3:
          case 14:
            r.nextHop = a.nexthop ?? null;
            break;
          case 4:
            r.med = a.metric ?? null;
            break;
          case 5:
            r.localPref = Number(a.value);
            break;
          case 8:
            r.communities = (a.communities ?? []).map((c) => `${Math.floor(c / 65536)}:${c % 65536}`);
            break;
          case 32:
            r.largeCommunities = ((a.value as { ASN: number; LocalData1: number; LocalData2: number }[]) ?? []).map(
              (c) => `${c.ASN}:${c.LocalData1}:${c.LocalData2}`,
            );
            break;
        }
      }
      out.push(mkRoute(r));
    }
  }
  return out;
}

export function makeRouter(kind: RouterKind, opts: RouterOptions): Router {
  switch (kind) {
    case 'bird':
      return new Bird(opts);
    case 'frr':
      return new Frr(opts);
    case 'gobgp':
      return new GoBgp(opts);
  }
}

export const ROUTER_BINS: Record<RouterKind, string[]> = {
  bird: ['bird', 'birdc'],
  frr: ['bgpd', 'vtysh', 'zebra'],
  gobgp: ['gobgpd', 'gobgp'],
};
