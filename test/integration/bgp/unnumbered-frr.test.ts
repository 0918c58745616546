// Unnumbered BGP (issue 12 item 3): `metallb-ts standalone` with a BGPPeer `interface: eth0`
// against FRR 8 (zebra + bgpd) configured `neighbor eth0 interface remote-as external`, over a
// veth that carries only IPv6 link-local addresses (no IPv4 on the link at all). Each side learns
// the other's link-local address from Router Advertisements; IPv4 routes travel with our IPv6
// link-local next hop (RFC 8950 extended next hop). Checked at FRR's BGP table, zebra's RIB and
// the kernel of FRR's namespace (`via inet6 fe80::…`); the routes FRR sends back (receive policy
// from an FRRConfiguration neighbor `interface: eth0`) land in the node's kernel the same way.
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lib/netns.ts';
import { unnumberedLab } from '../lib/unnumbered.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { StandaloneProcess, removeManifest, writeManifest } from '../lib/standalone.ts';
import { must, stopAll, waitFor } from '../lib/proc.ts';
import { packetAddonAvailable } from '../../../src/native/packet.ts';
import type { UnnumberedStatus } from '../../../src/bgp/speaker/unnumbered.ts';

const V4 = '198.51.100.40';
const V6 = '2001:db8:40::40';
const NODE_ADDRESS = '10.255.0.101';

const MANIFESTS: Record<string, string> = {
  'pools.yaml': `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: unnumbered, namespace: metallb-system}
spec: {addresses: [${V4}/32, ${V6}/128]}
`,
  'adv.yaml': `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {ipAddressPools: [unnumbered]}
`,
  // frr-k8s style receive policy for the same session (neighbor on interface eth0)
  'receive.yaml': `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: {name: receive, namespace: frr-k8s-system}
spec:
  bgp:
    routers:
    - asn: 64700
      neighbors:
      - interface: eth0
        asn: 64600
        toReceive: {allowed: {mode: all}}
`,
  'peer.yaml': `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec:
  myASN: 64700
  peerASN: 64600
  interface: eth0
  connectTime: 1s
`,
};

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: RequireDualStack
  ports: [{port: 80, protocol: TCP}]
`;

interface SpeakerView {
  state: string;
  peerAddress: string;
  lastError?: string;
  routes: string[];
  unnumbered?: UnnumberedStatus;
}


interface ZebraNexthop {
  ip?: string;
  afi?: string;
  interfaceName?: string;
  fib?: boolean;
}

describe('unnumbered BGPPeer (interface: eth0) against FRR `neighbor eth0 interface`', { concurrency: false }, () => {
  const frrBins = ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd'].filter((b) => !existsSync(b));
  const why =
    missing(['ip', 'vtysh']) ??
    (frrBins.length > 0 ? `FRR not installed: ${frrBins.join(', ')}` : undefined) ??
    (packetAddonAvailable() ? undefined : 'native addon metallb_packet.node not built (npm run build:native)');
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  let sa: StandaloneProcess | undefined;
  let manifests = '';
  let ourLL = '';
  let frrLL = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa, 'setup failed (see before hook)');
    return true;
  };
  const speaker = async (): Promise<SpeakerView | undefined> => ((await sa!.status()).sessions[0]?.speaker ?? undefined) as SpeakerView | undefined;
  const bgpHas = async (afi: 'ipv4' | 'ipv6', prefix: string): Promise<boolean> => {
    const doc = JSON.parse(await frr!.vtysh(`show bgp ${afi} unicast json`)) as { routes?: Record<string, unknown> };
    return doc.routes?.[prefix] !== undefined;
  };
  const zebraNexthops = async (cmd: string, prefix: string): Promise<ZebraNexthop[] | undefined> => {
    const doc = JSON.parse(await frr!.zebraVtysh(`${cmd} ${prefix} json`)) as Record<string, { protocol?: string; installed?: boolean; nexthops?: ZebraNexthop[] }[]>;
    const r = doc[prefix]?.find((x) => x.protocol === 'bgp' && x.installed === true);
    return r?.nexthops;
  };
  const kernel = (family: '-4' | '-6', prefix: string): string => must('ip', ['-n', lab!.nsRtr, family, 'route', 'show', prefix]).trim();

  before(async () => {
    if (why) return;
    // a loopback address for the node (router ID, --node-address): nothing on the link itself
    const u = unnumberedLab('unnum', NODE_ADDRESS);
    lab = u.lab;
    ourLL = u.nodeLL;
    frrLL = u.routerLL;
    frr = new Frr({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'frr'),
      asn: 64600,
      routerId: '10.255.0.1',
      listen4: [],
      listen6: [],
      neighbors: [{ name: 'dut', address: 'eth0', asn: 64700, interface: { remoteAs: 'external' } }],
      kernelFib: true,
    });
    await frr.start();
    manifests = join(lab.dir, 'manifests');
    for (const [f, text] of Object.entries(MANIFESTS)) writeManifest(manifests, f, text);
    writeManifest(manifests, 'svc.yaml', SERVICE);
    sa = new StandaloneProcess({ ns: lab.nsDut, manifests, statePath: join(lab.dir, 'state.json'), node: 'dut', nodeAddress: NODE_ADDRESS, httpPort: 7472, logFile: join(lab.dir, 'standalone.log') });
    sa.start();
    await sa.waitReady();
  });

  after(async () => {
    await stopAll([sa, frr], () => lab?.destroy());
  });

  it('the link carries no IPv4 address; both sides learn each other\'s link-local address and the session is Established', async (t) => {
    if (!need(t)) return;
    for (const ns of [lab!.nsRtr, lab!.nsDut]) assert.equal(must('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']).trim(), '', `${ns}: no IPv4 on eth0`);
    await frr!.waitEstablished(['eth0'], 60000);
    const s = await waitFor('our session Established', async () => {
      const v = await speaker();
      return v?.state === 'Established' ? v : undefined;
    }, 60000);
    assert.equal(s.peerAddress, 'eth0');
    assert.equal(s.unnumbered?.interface, 'eth0');
    assert.equal(s.unnumbered?.peerLinkLocal, frrLL, 'the router\'s link-local address, learned from its RAs');
    assert.equal(s.unnumbered?.localLinkLocal, ourLL);
    assert.equal(s.unnumbered?.extendedNextHop, true, 'FRR enables RFC 8950 on interface neighbors');
    assert.deepEqual(s.unnumbered?.nextHops, { ipv4: [ourLL], ipv6: [ourLL] });
    assert.ok((s.unnumbered?.routerAdvertisementsReceived ?? 0) >= 1);
    assert.ok((s.unnumbered?.routerAdvertisementsSent ?? 0) >= 1);
    // FRR's view of the neighbor: learned from our RA, RFC 8950 negotiated both ways
    const nb = JSON.parse(await frr!.vtysh('show bgp neighbors eth0 json')) as Record<string, { bgpState?: string; hostLocal?: string; hostForeign?: string; neighborCapabilities?: Record<string, unknown> }>;
    const n = nb.eth0;
    assert.equal(n?.bgpState, 'Established');
    assert.equal(n?.hostForeign, ourLL);
    assert.ok(n?.neighborCapabilities?.extendedNexthop !== undefined, JSON.stringify(n?.neighborCapabilities));
  });

  it('FRR has the Service /32 and /128 with our link-local next hop: BGP table, zebra, and the kernel (`via inet6 fe80::…`)', async (t) => {
    if (!need(t)) return;
    await waitFor('routes at FRR', async () => ((await bgpHas('ipv4', `${V4}/32`)) && (await bgpHas('ipv6', `${V6}/128`)) ? true : undefined), 30000);
    const nh4 = await waitFor('IPv4 route installed by zebra', () => zebraNexthops('show ip route', `${V4}/32`), 20000);
    assert.deepEqual(nh4.map((h) => [h.ip, h.afi, h.interfaceName, h.fib]), [[ourLL, 'ipv6', 'eth0', true]]);
    const nh6 = await waitFor('IPv6 route installed by zebra', () => zebraNexthops('show ipv6 route', `${V6}/128`), 20000);
    assert.deepEqual(nh6.map((h) => [h.ip, h.afi, h.interfaceName, h.fib]), [[ourLL, 'ipv6', 'eth0', true]]);
    const k4 = await waitFor('kernel IPv4 route', () => kernel('-4', `${V4}/32`) || undefined, 20000);
    assert.match(k4, new RegExp(`^${V4.replace(/\./g, '\\.')} .*via inet6 ${ourLL} dev eth0 proto bgp`));
    const k6 = await waitFor('kernel IPv6 route', () => kernel('-6', `${V6}/128`) || undefined, 20000);
    assert.match(k6, new RegExp(`^${V6} .*via ${ourLL} dev eth0 proto bgp`));
    const s = await speaker();
    assert.deepEqual([...(s?.routes ?? [])].sort(), [`${V4}/32`, `${V6}/128`]);
  });

  it('routes FRR sends on the unnumbered session (receive policy) land in the node\'s kernel via FRR\'s link-local address', async (t) => {
    if (!need(t)) return;
    await frr!.network(['203.0.113.0/24', '2001:db8:77::/48']);
    const dut = (family: '-4' | '-6', prefix: string): string => must('ip', ['-n', lab!.nsDut, family, 'route', 'show', prefix]).trim();
    const k4 = await waitFor('IPv4 route from FRR in our kernel', () => dut('-4', '203.0.113.0/24') || undefined, 30000);
    assert.match(k4, new RegExp(`^203\\.0\\.113\\.0/24 .*via inet6 ${frrLL} dev eth0 proto bgp`));
    const k6 = await waitFor('IPv6 route from FRR in our kernel', () => dut('-6', '2001:db8:77::/48') || undefined, 30000);
    assert.match(k6, new RegExp(`^2001:db8:77::/48 .*via ${frrLL} dev eth0 proto bgp`));
    await frr!.network(['203.0.113.0/24', '2001:db8:77::/48'], true);
    await waitFor('received routes withdrawn from our kernel', () => (dut('-4', '203.0.113.0/24') === '' && dut('-6', '2001:db8:77::/48') === '' ? true : undefined), 30000);
  });

  it('the Service deleted: both routes are withdrawn at FRR and from its kernel', async (t) => {
    if (!need(t)) return;
    removeManifest(manifests, 'svc.yaml');
    await waitFor('routes withdrawn at FRR', async () => (!(await bgpHas('ipv4', `${V4}/32`)) && !(await bgpHas('ipv6', `${V6}/128`)) ? true : undefined), 20000);
    await waitFor('kernel routes gone', () => (kernel('-4', `${V4}/32`) === '' && kernel('-6', `${V6}/128`) === '' ? true : undefined), 20000);
    writeManifest(manifests, 'svc.yaml', SERVICE);
    await waitFor('routes back at FRR', async () => ((await bgpHas('ipv4', `${V4}/32`)) && (await bgpHas('ipv6', `${V6}/128`)) ? true : undefined), 20000);
  });
});
