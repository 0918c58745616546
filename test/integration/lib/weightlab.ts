// The weighted-ECMP lab shared by the weighted ECMP tests: one FRR router namespace (bgpd + zebra,
// routes installed in its kernel, `bgp bestpath bandwidth skip-missing`, `maximum-paths`) and
// one `metallb-ts standalone` per node namespace (--node dut-a, dut-b, ...), all reading one
// manifest folder. IPv4 sessions always; with `ipv6` an IPv6 session per node too (all nodes in
// one AS, eBGP to the router, so no multipath-relax is needed). Readers for FRR's installed
// next hops with their weights (zebra's JSON), the router kernel's `ip route`, and FRR's per
// neighbor UPDATE counter (`show bgp neighbors json` messageStats.updatesRecv).

import { join } from 'node:path';
import { Lab } from './netns.ts';
import { must, stopAll, waitFor } from './proc.ts';
import { Frr } from './routers.ts';
import { StandaloneProcess, writeManifest } from './standalone.ts';
import { peerYaml } from './interop.ts';

export const WEIGHT_RTR_ASN = 64620;
export const WEIGHT_DUT_ASN = 64720;

export interface Hop {
  ip: string;
  weight: number;
}

export interface AdvertisementOptions {
  weighted: boolean;
  /** metallb-ts.io/weight-update-interval */
  interval?: string;
  /** metallb-ts.io/local-fallback: all-nodes */
  fallback?: boolean;
  /** Pool ranges (default an IPv4 /26 and an IPv6 /120). */
  addresses?: string[];
}

/** The pool and the BGPAdvertisement (with the metallb-ts.io/ annotations asked for). */
export function advertisementYaml(o: AdvertisementOptions): string {
  const ann: string[] = [];
  if (o.weighted) ann.push('    metallb-ts.io/weighted-ecmp: endpoints');
  if (o.interval !== undefined) ann.push(`    metallb-ts.io/weight-update-interval: "${o.interval}"`);
  if (o.fallback) ann.push('    metallb-ts.io/local-fallback: all-nodes');
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool
  namespace: metallb-system
spec:
  addresses: [${(o.addresses ?? ['198.51.100.64/26', '2001:db8:77::/120']).join(', ')}]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: adv
  namespace: metallb-system
${ann.length > 0 ? `  annotations:\n${ann.join('\n')}\n` : ''}spec:
  ipAddressPools: [pool]
`;
}

/** An externalTrafficPolicy: Local Service with the given IPs (one per family). */
export function localServiceYaml(name: string, ips: string[]): string {
  const fams = ips.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'));
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
  annotations:
    metallb.io/loadBalancerIPs: "${ips.join(',')}"
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ipFamilies: [${fams.join(', ')}]
  ipFamilyPolicy: ${fams.length > 1 ? 'RequireDualStack' : 'SingleStack'}
  ports:
  - port: 80
`;
}

/**
 * EndpointSlices of Service `service` with `counts[i]` ready endpoints on `nodes[i]` (and
 * `notReady[i]` not ready ones): one slice per address family asked for.
 */
export function endpointSlicesYaml(service: string, nodes: readonly string[], counts: readonly number[], families: readonly (4 | 6)[] = [4], notReady: readonly number[] = []): string {
  return families
    .map((f) => {
      const eps: string[] = [];
      let k = 1;
      nodes.forEach((n, i) => {
        const add = (ready: boolean): void => {
          const addr = f === 4 ? `10.244.${i}.${k}` : `fd00:244:${i}::${k.toString(16)}`;
          k++;
          eps.push(`- addresses: ["${addr}"]\n  nodeName: ${n}\n  conditions:\n    ready: ${ready}\n`);
        };
        for (let j = 0; j < (counts[i] ?? 0); j++) add(true);
        for (let j = 0; j < (notReady[i] ?? 0); j++) add(false);
      });
      return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${service}-ipv${f}
  namespace: default
  labels:
    kubernetes.io/service-name: ${service}
addressType: IPv${f}
endpoints:${eps.length === 0 ? ' []\n' : `\n${eps.join('')}`}`;
    })
    .join('---\n');
}

export interface WeightLabOptions {
  label: string;
  nodes: readonly string[];
  /** An IPv6 session per node as well. */
  ipv6?: boolean;
  /** Manifests written before the speakers start (file name -> text); pool/peers are added. */
  manifests: Record<string, string>;
}

export class WeightLab {
  readonly lab: Lab;
  readonly frr: Frr;
  readonly speakers: StandaloneProcess[] = [];
  readonly manifests: string;

  private constructor(readonly opts: WeightLabOptions) {
    this.lab = new Lab(opts.label, { duts: opts.nodes.length }).setup();
    const a = this.lab.addr;
    const neighbors = opts.nodes.flatMap((n, i) => [
      { name: `${n.replace(/\W/g, '_')}_4`, address: a.dut4[i] ?? '', asn: WEIGHT_DUT_ASN, localAddress: a.rtr4[i] ?? '' },
      ...(opts.ipv6 ? [{ name: `${n.replace(/\W/g, '_')}_6`, address: a.dut6[i] ?? '', asn: WEIGHT_DUT_ASN, localAddress: a.rtr6[i] ?? '' }] : []),
    ]);
    this.frr = new Frr({
      ns: this.lab.nsRtr,
      dir: join(this.lab.dir, 'frr'),
      asn: WEIGHT_RTR_ASN,
      routerId: a.rtr4[0] ?? '',
      listen4: [...a.rtr4],
      listen6: opts.ipv6 ? [...a.rtr6] : [],
      neighbors,
      zebra: true,
      kernelFib: true,
      frrRouterLines: ['bgp bestpath bandwidth skip-missing'],
      frrAddressFamilyLines: ['maximum-paths 4'],
    });
    this.manifests = join(this.lab.dir, 'manifests');
  }

  /** Creates the namespaces, starts FRR and one standalone per node; resolves when all are ready. */
  static async start(opts: WeightLabOptions): Promise<WeightLab> {
    const w = new WeightLab(opts);
    try {
      await w.frr.start();
      const a = w.lab.addr;
      const peers = opts.nodes.flatMap((n, i) => [
        peerYaml({ name: `rtr4-${n}`, myASN: WEIGHT_DUT_ASN, peerASN: WEIGHT_RTR_ASN, peerAddress: a.rtr4[i] ?? '', node: n }),
        ...(opts.ipv6 ? [peerYaml({ name: `rtr6-${n}`, myASN: WEIGHT_DUT_ASN, peerASN: WEIGHT_RTR_ASN, peerAddress: a.rtr6[i] ?? '', node: n })] : []),
      ]);
      writeManifest(w.manifests, 'peers.yaml', peers.join('---\n'));
      for (const [name, text] of Object.entries(opts.manifests)) writeManifest(w.manifests, name, text);
      opts.nodes.forEach((n, i) => {
        const sa = new StandaloneProcess({
          ns: w.lab.duts[i] ?? '',
          manifests: w.manifests,
          statePath: join(w.lab.dir, `state-${n}.json`),
          node: n,
          nodeAddress: a.dut4[i] ?? '',
          httpPort: 7472,
          logFile: join(w.lab.dir, `standalone-${n}.log`),
        });
        w.speakers.push(sa);
        sa.start();
      });
      for (const sa of w.speakers) await sa.waitReady();
      await w.frr.waitEstablished(w.sessionAddresses(), 30000);
    } catch (e) {
      await w.stop();
      throw e;
    }
    return w;
  }

  /** The nodes' session addresses at the router (IPv4, then IPv6). */
  sessionAddresses(): string[] {
    const a = this.lab.addr;
    return [...a.dut4.slice(0, this.opts.nodes.length), ...(this.opts.ipv6 ? a.dut6.slice(0, this.opts.nodes.length) : [])];
  }

  write(name: string, text: string): void {
    writeManifest(this.manifests, name, text);
  }

  /** FRR's installed route for `prefix`: active next hops with weights (zebra's view), undefined when none. */
  async hops(prefix: string): Promise<Hop[] | undefined> {
    const cmd = prefix.includes(':') ? 'show ipv6 route' : 'show ip route';
    const doc = JSON.parse(await this.frr.zebraVtysh(`${cmd} ${prefix} json`)) as Record<string, { installed?: boolean; nexthops?: { ip?: string; weight?: number; active?: boolean }[] }[]>;
    const r = doc[prefix]?.find((x) => x.installed);
    if (!r) return undefined;
    return (r.nexthops ?? []).filter((h) => h.active && h.ip).map((h) => ({ ip: h.ip ?? '', weight: h.weight ?? 1 })).sort((x, y) => x.ip.localeCompare(y.ip));
  }

  /** The router kernel's route for `prefix`: `nexthop via X dev Y weight W` per hop (`ip -6 route` for IPv6). */
  kernelHops(prefix: string): Hop[] {
    const out = must('ip', ['-n', this.lab.nsRtr, ...(prefix.includes(':') ? ['-6'] : []), 'route', 'show', prefix]);
    return [...out.matchAll(/nexthop via (\S+) dev \S+ weight (\d+)/g)].map((m) => ({ ip: m[1] ?? '', weight: Number(m[2]) })).sort((x, y) => x.ip.localeCompare(y.ip));
  }

  /** Waits until FRR installed `n` next hops for `prefix` and `ok` holds. */
  waitHops(prefix: string, what: string, ok: (h: Hop[]) => boolean, n = 2, timeoutMs = 30000): Promise<Hop[]> {
    return waitFor(what, async () => {
      const h = await this.hops(prefix);
      return h && h.length === n && ok(h) ? h : undefined;
    }, timeoutMs, 100);
  }

  /** UPDATE messages FRR received from the neighbor at `address`. */
  updatesFrom(address: string): Promise<number> {
    return frrUpdatesFrom(this.frr, address);
  }

  async stop(): Promise<void> {
    await stopAll([...this.speakers, this.frr], () => this.lab.destroy());
  }
}

/** UPDATE messages FRR received from the neighbor at `address` (`show bgp neighbors X json`, messageStats.updatesRecv). */
export async function frrUpdatesFrom(frr: Frr, address: string): Promise<number> {
  const doc = JSON.parse(await frr.vtysh(`show bgp neighbors ${address} json`)) as Record<string, { messageStats?: { updatesRecv?: number } }>;
  const n = doc[address]?.messageStats?.updatesRecv;
  if (n === undefined) throw new Error(`no messageStats.updatesRecv for ${address}`);
  return n;
}

/** True when the weights of `h` are in ratio `a`:`b` (±1 on FRR's percentages). */
export function ratio(h: readonly Hop[], a: number, b: number): boolean {
  const x = h[0]?.weight ?? 0;
  const y = h[1]?.weight ?? 0;
  return Math.abs(x * b - y * a) <= Math.max(a, b);
}
