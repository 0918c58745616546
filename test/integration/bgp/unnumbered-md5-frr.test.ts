// TCP-MD5 (RFC 2385) on an unnumbered session: a BGPPeer `interface: eth0` with a `password`
// against FRR `neighbor eth0 interface remote-as external` + `neighbor eth0 password`, over a
// link-local-only veth. The key is installed for the router's link-local address once it is
// learned; the session comes up only with the same password on both sides (FRR with another
// password never gets past the TCP handshake).
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lib/netns.ts';
import { unnumberedLab } from '../lib/unnumbered.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { stopAll, waitFor } from '../lib/proc.ts';
import { packetAddonAvailable } from '../../../src/native/packet.ts';

const NODE_ADDRESS = '10.255.0.104';
const peer = (password: string): string => `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec:
  myASN: 64700
  peerASN: 64600
  interface: eth0
  connectTime: 1s
  password: ${password}
`;

interface SpeakerView {
  state: string;
  lastError?: string;
}

describe('TCP-MD5 on an unnumbered BGPPeer against FRR', { concurrency: false }, () => {
  const frrBins = ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd'].filter((b) => !existsSync(b));
  const why =
    missing(['ip', 'vtysh']) ??
    (frrBins.length > 0 ? `FRR not installed: ${frrBins.join(', ')}` : undefined) ??
    (packetAddonAvailable() ? undefined : 'native addon metallb_packet.node not built (npm run build:native)');
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  let sa: StandaloneProcess | undefined;
  let manifests = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa, 'setup failed (see before hook)');
    return true;
  };
  const speaker = async (): Promise<SpeakerView | undefined> => ((await sa!.status()).sessions[0]?.speaker ?? undefined) as SpeakerView | undefined;

  before(async () => {
    if (why) return;
    lab = unnumberedLab('unnummd5', NODE_ADDRESS).lab;
    frr = new Frr({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'frr'),
      asn: 64600,
      routerId: '10.255.0.1',
      listen4: [],
      listen6: [],
      neighbors: [{ name: 'dut', address: 'eth0', asn: 64700, interface: { remoteAs: 'external' }, families: [4] }],
      frrRouterLines: ['neighbor eth0 password s3cret-md5'],
      zebra: true,
    });
    await frr.start();
    manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'peer.yaml', peer('wrong-password'));
    writeManifest(manifests, 'pool.yaml', 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [198.51.100.44/32]}\n');
    sa = new StandaloneProcess({ ns: lab.nsDut, manifests, statePath: join(lab.dir, 'state.json'), node: 'dut', nodeAddress: NODE_ADDRESS, httpPort: 7472, logFile: join(lab.dir, 'standalone.log') });
    sa.start();
    await sa.waitReady();
  });

  after(async () => {
    await stopAll([sa, frr], () => lab?.destroy());
  });

  it('another password: no session', async (t) => {
    if (!need(t)) return;
    // the router's address is learned, connections are tried and fail (no MD5 match)
    await waitFor('connection attempts', async () => ((await speaker())?.lastError !== undefined ? true : undefined), 30000);
    await new Promise((r) => setTimeout(r, 4000));
    assert.notEqual((await speaker())?.state, 'Established');
    assert.notEqual((await frr!.states())['eth0'], 'established');
  });

  it('the same password: Established on both sides', async (t) => {
    if (!need(t)) return;
    writeManifest(manifests, 'peer.yaml', peer('s3cret-md5'));
    await frr!.waitEstablished(['eth0'], 60000);
    await waitFor('our session Established', async () => ((await speaker())?.state === 'Established' ? true : undefined), 30000);
  });
});
