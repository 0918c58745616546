// Seed 002 (blog post: MetalLB + pfSense FRR): FRR iBGP in AS 64512 with the prefix list
// "permit 192.168.10.0/24 ge 24 le 32" applied inbound, router 192.168.0.254, node
// 192.168.0.111 (addresses as in the post, inside our own namespaces). The MetalLB side is the
// post's legacy ConfigMap verbatim; the Service gets 192.168.10.1 (avoid-buggy-ips) and FRR
// shows `*>i192.168.10.1/32 192.168.0.111 ... ?` as in the post.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { routesOf } from '../lib/interop.ts';
import { must, stopAll } from '../lib/proc.ts';

const CONFIGMAP = `---
apiVersion: v1
data:
  config: |
    # Configured to use BGP to the core router
    # Private ASN range is 64512 - 65534
    peers:
      - peer-address: 192.168.0.254
        peer-asn: 64512
        my-asn: 64512
    address-pools:
      - name: default
        protocol: bgp
        addresses:
          - 192.168.10.0/24
        avoid-buggy-ips: true
      - name: layer2
        protocol: layer2
        addresses:
          - 192.168.0.50-192.168.0.100
        avoid-buggy-ips: true
kind: ConfigMap
metadata:
  name: config
  namespace: metallb-system
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: default
spec:
  type: LoadBalancer
  ports:
  - port: 80
`;

describe('seed 002: FRR iBGP AS 64512 with a /24-/32 prefix list', { concurrency: false }, () => {
  const why = missing(['ip', 'bgpd', 'zebra', 'vtysh']);
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  let sa: StandaloneProcess | undefined;
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa, 'setup failed (see before hook)');
    return true;
  };

  before(async () => {
    if (why) return;
    lab = new Lab('seed002').setup();
    must('ip', ['-n', lab.nsRtr, 'addr', 'add', '192.168.0.254/24', 'dev', 'eth0']);
    must('ip', ['-n', lab.nsDut, 'addr', 'add', '192.168.0.111/24', 'dev', 'eth0']);
    frr = new Frr({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'frr'),
      asn: 64512,
      routerId: '192.168.0.254',
      listen4: ['192.168.0.254'],
      listen6: [],
      zebra: true,
      neighbors: [{ name: 'metallb', address: '192.168.0.111', asn: 64512, prefixList: { prefix: '192.168.10.0/24', ge: 24, le: 32 } }],
    });
    await frr.start();
    const manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'metallb-config.yaml', CONFIGMAP);
    writeManifest(manifests, 'nginx.yaml', SERVICE);
    sa = new StandaloneProcess({
      ns: lab.nsDut,
      manifests,
      statePath: join(lab.dir, 'state.json'),
      node: 'k8s-node',
      nodeAddress: '192.168.0.111',
      httpPort: 7472,
      logFile: join(lab.dir, 'standalone.log'),
    });
    sa.start();
    await sa.waitReady();
  });

  after(() => stopAll([sa, frr], () => lab?.destroy()));

  it('FRR accepts 192.168.10.1/32 through the prefix list: next hop 192.168.0.111, iBGP, origin incomplete', async (t) => {
    if (!need(t) || !frr || !sa) return;
    await frr.waitEstablished(['192.168.0.111'], 30000);
    const st = await sa.status();
    assert.deepEqual(st.services.map((s) => [s.name, s.ips, s.pool]), [['nginx', ['192.168.10.1'], 'default']]);
    const all = await frr.waitRoutes('192.168.10.1/32 at FRR', (r) => routesOf(r, '192.168.0.111').length > 0);
    assert.deepEqual(routesOf(all, '192.168.0.111'), [
      { nextHop: '192.168.0.111', asPath: [], localPref: 0, origin: 'incomplete', prefix: '192.168.10.1/32', communities: [], largeCommunities: [] },
    ]);
    // the prefix list is really in force on this neighbor
    const cfg = await frr.vtysh('show running-config');
    assert.match(cfg, /ip prefix-list PL_metallb seq 1 permit 192\.168\.10\.0\/24 ge 24 le 32/);
    assert.match(cfg, /neighbor 192\.168\.0\.111 route-map RM_metallb in/);
  });
});
