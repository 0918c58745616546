// `metallb-ts standalone` in Layer 2 mode, real frames: the standalone process runs in a "node"
// namespace joined by a veth pair to a "client" namespace (test/integration/lib/netns.ts: node
// eth0 10.201.0.101/24 + 2001:db8:201::101/64, client eth0 10.201.0.1/24 + 2001:db8:201::1/64).
//   - arping / ndisc6 from the client resolve the Services' IPs to the node's MAC;
//   - gratuitous ARPs / unsolicited NAs were sent, /status and /metrics show the counters;
//   - an address nobody owns gets no answer; removing the Service file stops the answers;
//   - SIGTERM: exit 0, and nothing answers any more.
// Everything lives in the test's own namespaces (unique names) and is deleted afterwards.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { IN_CI, missing } from '../lib/prereq.ts';
import { must, waitFor } from '../lib/proc.ts';
import { REPO_ROOT, StandaloneProcess, removeManifest, writeManifest } from '../lib/standalone.ts';
import { serviceYaml } from '../lib/interop.ts';
import { arpingOnce, ndiscOnce } from './lab.ts';

const POOLS = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: lan4, namespace: metallb-system }
spec:
  addresses: [10.201.0.200-10.201.0.203]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: lan6, namespace: metallb-system }
spec:
  addresses: ["2001:db8:201::200/126"]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: lan, namespace: metallb-system }
spec:
  ipAddressPools: [lan4, lan6]
`;

interface L2StatusView {
  ready: boolean;
  services: { name: string; ips: string[] }[];
  layer2: { ip: string; node: string | null }[];
  layer2Announcing: { ip: string; interfaces: string[]; rule: string; requestsReceived: number; responsesSent: number; gratuitousSent: number }[] | null;
}

function prerequisite(): string | undefined {
  const why = missing(['ip', 'arping', 'ndisc6']);
  if (why) return why;
  if (!existsSync(join(REPO_ROOT, 'build', 'Release', 'metallb_packet.node'))) return 'native addon not built (npm run build:native)';
  return undefined;
}

describe('standalone Layer 2: ARP/NDP from a real standalone process', { concurrency: false }, () => {
  const why = prerequisite();
  let lab: Lab | undefined;
  let sa: StandaloneProcess | undefined;
  let manifests = '';
  let mac = '';
  const need = (t: TestContext): boolean => {
    if (why) {
      if (IN_CI) throw new Error(`prerequisite missing under CI: ${why}`);
      t.skip(why);
      return false;
    }
    assert.ok(lab && sa, 'setup failed (see before hook)');
    return true;
  };
  const status = async (): Promise<L2StatusView> => {
    assert.ok(sa);
    const r = await sa.get('/status');
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as L2StatusView;
  };
  const arp = (ip: string): string[] => arpingOnce(lab?.nsRtr ?? '', 'eth0', ip);

  before(async () => {
    if (why) return;
    lab = new Lab('sal2').setup();
    try {
      const link = JSON.parse(must('ip', ['-n', lab.nsDut, '-j', 'link', 'show', 'eth0'])) as { address: string }[];
      mac = (link[0]?.address ?? '').toLowerCase();
      assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      manifests = join(lab.dir, 'manifests');
      writeManifest(manifests, 'pools.yaml', POOLS);
      writeManifest(manifests, 'web.yaml', serviceYaml('web'));
      writeManifest(manifests, 'web6.yaml', serviceYaml('web6', undefined, 'IPv6'));
      sa = new StandaloneProcess({
        ns: lab.nsDut,
        manifests,
        statePath: join(lab.dir, 'state.json'),
        node: 'node1',
        nodeAddress: lab.addr.dut4[0] ?? '',
        httpPort: 7472,
        logFile: join(lab.dir, 'standalone.log'),
      });
      sa.start();
      await sa.waitReady();
    } catch (e) {
      await sa?.stop();
      lab.destroy();
      lab = undefined;
      throw e;
    }
  });

  after(async () => {
    try {
      await sa?.stop();
    } finally {
      lab?.destroy();
    }
  });

  it('the client resolves the Service IPs (ARP and NDP) to the node MAC; gratuitous frames and counters', { timeout: 60000 }, async (t) => {
    if (!need(t) || !lab) return;
    const st = await status();
    assert.deepEqual(
      st.services.map((s) => [s.name, s.ips]).sort(),
      [
        ['web', ['10.201.0.200']],
        ['web6', ['2001:db8:201::200']],
      ],
    );
    // standalone is the owner of every Layer 2 address it has
    assert.deepEqual(st.layer2.map((l) => [l.ip, l.node]), [
      ['10.201.0.200', 'node1'],
      ['2001:db8:201::200', 'node1'],
    ]);
    assert.deepEqual(await waitFor('ARP reply with the node MAC', () => (arp('10.201.0.200').length > 0 ? arp('10.201.0.200') : undefined), 15000), [mac]);
    const ndp = await waitFor('NA with the node MAC', () => ndiscOnce(lab?.nsRtr ?? '', 'eth0', '2001:db8:201::200') ?? undefined, 15000);
    assert.equal(ndp, mac);
    // an address of the pool nobody uses is not answered
    assert.deepEqual(arp('10.201.0.203'), []);

    // the whole gratuitous schedule (0, 0.5, 1, 2 s) went out on eth0, chosen by the subnet rule
    const ann = await waitFor(
      'gratuitous schedule done',
      async () => {
        const a = (await status()).layer2Announcing ?? [];
        return a.length === 2 && a.every((x) => x.gratuitousSent >= 4) ? a : undefined;
      },
      15000,
      250,
    );
    for (const a of ann) {
      assert.deepEqual(a.interfaces, ['eth0'], JSON.stringify(a));
      assert.equal(a.rule, 'subnet', JSON.stringify(a));
      assert.ok(a.requestsReceived >= 1 && a.responsesSent >= 1, JSON.stringify(a));
    }
    const metrics = (await sa?.get('/metrics'))?.body ?? '';
    assert.match(metrics, /metallb_layer2_gratuitous_sent\{ip="10\.201\.0\.200"\} [4-9]/);
    assert.match(metrics, /metallb_layer2_responses_sent\{ip="10\.201\.0\.200"\} [1-9]/);
    assert.match(metrics, /metallb_layer2_requests_received\{ip="2001:db8:201::200"\} [1-9]/);
  });

  it('removing the Service file stops the answers for its IP (the other keeps answering)', { timeout: 60000 }, async (t) => {
    if (!need(t) || !lab) return;
    removeManifest(manifests, 'web.yaml');
    await waitFor('no ARP reply for the removed Service', () => (arp('10.201.0.200').length === 0 ? true : undefined), 15000);
    const st = await status();
    assert.deepEqual(st.services.map((s) => s.name), ['web6']);
    assert.deepEqual((st.layer2Announcing ?? []).map((a) => a.ip), ['2001:db8:201::200']);
    assert.equal(ndiscOnce(lab.nsRtr, 'eth0', '2001:db8:201::200'), mac);
    // back again: the same address (state file) is answered again
    writeManifest(manifests, 'web.yaml', serviceYaml('web'));
    assert.deepEqual(await waitFor('ARP reply again', () => (arp('10.201.0.200').length > 0 ? arp('10.201.0.200') : undefined), 15000), [mac]);
  });

  it('SIGTERM: exits 0 and stops answering', { timeout: 60000 }, async (t) => {
    if (!need(t) || !lab || !sa) return;
    const proc = sa.proc;
    assert.ok(proc);
    proc.signal('SIGTERM');
    assert.equal(await proc.waitExit(10000), true, 'exited after SIGTERM');
    assert.equal(proc.exitCode, 0);
    assert.deepEqual(arp('10.201.0.200'), []);
    assert.equal(ndiscOnce(lab.nsRtr, 'eth0', '2001:db8:201::200'), null);
  });
});
