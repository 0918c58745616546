// Unnumbered BGP against a second implementation: BIRD 2 on a link with only IPv6 link-local
// addresses. BIRD sends Router Advertisements (`protocol radv`) and accepts sessions from any
// link-local address on eth0 (dynamic BGP, `neighbor range fe80::/10` + `interface "eth0"`), with
// RFC 8950 (`extended next hop on`) for IPv4. `metallb-ts standalone` has a BGPPeer
// `interface: eth0`: it learns BIRD's link-local address from the RAs, connects, and its IPv4
// Service route reaches BIRD with our IPv6 link-local next hop.
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Lab } from '../lib/netns.ts';
import { unnumberedLab } from '../lib/unnumbered.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Bird } from '../lib/routers.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { stopAll, waitFor } from '../lib/proc.ts';
import { packetAddonAvailable } from '../../../src/native/packet.ts';
import type { UnnumberedStatus } from '../../../src/bgp/speaker/unnumbered.ts';

const V4 = '198.51.100.41';
const V6 = '2001:db8:41::41';
const NODE_ADDRESS = '10.255.0.102';

const MANIFEST = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: unnumbered, namespace: metallb-system}
spec: {addresses: [${V4}/32, ${V6}/128]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {ipAddressPools: [unnumbered]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec:
  myASN: 64700
  peerASN: 64600
  interface: eth0
  connectTime: 1s
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: RequireDualStack
  ports: [{port: 80, protocol: TCP}]
`;

/** BIRD as an unnumbered ToR: RAs on eth0, passive dynamic sessions from any link-local peer there. */
class UnnumberedBird extends Bird {
  override config(): string {
    const o = this.opts;
    return [
      `log "${join(o.dir, 'bird.log')}" all;`,
      `router id ${o.routerId};`,
      'protocol device { scan time 1; }',
      'protocol radv { ipv6 { export none; }; interface "eth0" { min ra interval 3; max ra interval 4; }; }',
      'protocol bgp tor {',
      `  local as ${o.asn};`,
      '  neighbor range fe80::/10 as 64700;',
      '  interface "eth0";',
      '  dynamic name "dut";',
      '  connect delay time 1; connect retry time 1; error wait time 1, 2;',
      '  ipv4 { import all; export none; extended next hop on; };',
      '  ipv6 { import all; export none; };',
      '}',
    ].join('\n') + '\n';
  }
}

interface SpeakerView {
  state: string;
  routes: string[];
  unnumbered?: UnnumberedStatus;
}


describe('unnumbered BGPPeer (interface: eth0) against BIRD 2 (radv + dynamic link-local neighbor)', { concurrency: false }, () => {
  const why = missing(['ip', 'bird', 'birdc']) ?? (packetAddonAvailable() ? undefined : 'native addon metallb_packet.node not built (npm run build:native)');
  let lab: Lab | undefined;
  let bird: UnnumberedBird | undefined;
  let sa: StandaloneProcess | undefined;
  let ourLL = '';
  let birdLL = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && bird && sa, 'setup failed (see before hook)');
    return true;
  };
  const speaker = async (): Promise<SpeakerView | undefined> => ((await sa!.status()).sessions[0]?.speaker ?? undefined) as SpeakerView | undefined;

  before(async () => {
    if (why) return;
    const u = unnumberedLab('unnumbird', NODE_ADDRESS);
    lab = u.lab;
    ourLL = u.nodeLL;
    birdLL = u.routerLL;
    bird = new UnnumberedBird({ ns: lab.nsRtr, dir: join(lab.dir, 'bird'), asn: 64600, routerId: '10.255.0.2', listen4: [], listen6: [], neighbors: [] });
    await bird.start();
    const manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'all.yaml', MANIFEST);
    sa = new StandaloneProcess({ ns: lab.nsDut, manifests, statePath: join(lab.dir, 'state.json'), node: 'dut', nodeAddress: NODE_ADDRESS, httpPort: 7472, logFile: join(lab.dir, 'standalone.log') });
    sa.start();
    await sa.waitReady();
  });

  after(async () => {
    await stopAll([sa, bird], () => lab?.destroy());
  });

  it('BIRD\'s link-local address is learned from its RAs and the session is Established on both sides', async (t) => {
    if (!need(t)) return;
    const s = await waitFor('our session Established', async () => {
      const v = await speaker();
      return v?.state === 'Established' ? v : undefined;
    }, 60000);
    assert.equal(s.unnumbered?.peerLinkLocal, birdLL);
    assert.equal(s.unnumbered?.localLinkLocal, ourLL);
    assert.equal(s.unnumbered?.extendedNextHop, true, 'BIRD negotiates RFC 8950 (extended next hop on)');
    const protos = await bird!.birdc('show protocols');
    assert.match(protos, /^dut1\s+BGP\s+.*Established/m, protos);
  });

  it('BIRD has the Service /32 and /128 with our link-local next hop', async (t) => {
    if (!need(t)) return;
    const text = await waitFor('routes at BIRD', async () => {
      const out = await bird!.birdc('show route all where source = RTS_BGP');
      return out.includes(`${V4}/32`) && out.includes(`${V6}/128`) ? out : undefined;
    }, 30000);
    const block = (prefix: string): string => text.slice(text.indexOf(prefix)).split(/\n(?=\S)/)[0] ?? '';
    // BIRD resolves both to our link-local address on eth0 (the IPv4 one through RFC 8950)
    for (const p of [`${V4}/32`, `${V6}/128`]) {
      assert.match(block(p), new RegExp(`via ${ourLL} on eth0`), block(p));
      assert.match(block(p), new RegExp(`BGP.next_hop: (?:\\S+ )?${ourLL}`), block(p));
      assert.match(block(p), /BGP\.as_path: 64700\n/, block(p));
    }
  });
});
