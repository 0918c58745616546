// Seed 000 (MetalLB + Romana route publisher): BIRD passive on 127.0.0.1 with `multihop`, the
// speaker with `router-id: 127.0.0.1`, both in one namespace talking over loopback; the
// configuration is the seed's legacy ConfigMap `peers` stanza as written. eBGP (BIRD AS 1234,
// MetalLB AS 2345) and iBGP (both AS 1234) variants.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { parseBirdRoutes } from '../lib/routers.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { routesOf } from '../lib/interop.ts';
import { startProcess, stopAll, run, waitFor } from '../lib/proc.ts';
import type { Managed } from '../lib/proc.ts';

function configMap(myAsn: number): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: config
  namespace: metallb-system
data:
  config: |
    peers:
    - peer-asn: 1234
      my-asn: ${myAsn}
      peer-address: 127.0.0.1
      router-id: 127.0.0.1
    address-pools:
    - name: default
      protocol: bgp
      addresses:
      - 198.51.100.0/28
`;
}

const service = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  type: LoadBalancer
  ports:
  - port: 80
`;

for (const variant of [
  { name: 'eBGP', myAsn: 2345 },
  { name: 'iBGP', myAsn: 1234 },
]) {
  describe(`seed 000: BIRD on 127.0.0.1 (multihop, passive), ${variant.name}`, { concurrency: false }, () => {
    const why = missing(['ip', 'bird', 'birdc']);
    let lab: Lab | undefined;
    let bird: Managed | undefined;
    let sa: StandaloneProcess | undefined;
    let ctl = '';
    const need = (t: TestContext): boolean => {
      if (!runnable(t, why)) return false;
      assert.ok(lab && bird && sa, 'setup failed (see before hook)');
      return true;
    };

    before(async () => {
      if (why) return;
      lab = new Lab('seed000', { single: true }).setup();
      const dir = lab.dir;
      ctl = join(dir, 'bird.ctl');
      // the seed's publisher.conf stanza, verbatim, inside a minimal BIRD 2 configuration
      // (a router id other than 127.0.0.1 - the reason the seed overrides MetalLB's)
      writeFileSync(
        join(dir, 'bird.conf'),
        `router id 192.0.2.1;
protocol device {}
protocol direct { ipv4; interface "lo"; }
protocol bgp metallb {
  local as 1234;
  neighbor 127.0.0.1 as ${variant.myAsn};

  multihop;
  passive;
  ipv4 { import all; export none; };
}
`,
      );
      const check = run('ip', ['netns', 'exec', lab.nsRtr, 'bird', '-p', '-c', join(dir, 'bird.conf')]);
      assert.equal(check.status, 0, check.stderr);
      bird = startProcess('bird', 'ip', ['netns', 'exec', lab.nsRtr, 'bird', '-f', '-c', join(dir, 'bird.conf'), '-s', ctl], join(dir, 'bird.out'));
      await waitFor('birdc', () => (run('birdc', ['-s', ctl, 'show', 'status']).status === 0 ? true : undefined), 10000, 50);
      const manifests = join(dir, 'manifests');
      writeManifest(manifests, 'config.yaml', configMap(variant.myAsn));
      writeManifest(manifests, 'svc.yaml', service);
      sa = new StandaloneProcess({
        ns: lab.nsRtr,
        manifests,
        statePath: join(dir, 'state.json'),
        node: 'node1',
        nodeAddress: '127.0.0.1',
        httpPort: 7472,
        logFile: join(dir, 'standalone.log'),
      });
      sa.start();
      await sa.waitReady();
    });

    after(() => stopAll([sa, bird], () => lab?.destroy()));

    it('session Established with router id 127.0.0.1; the /32 arrives with next hop 127.0.0.1', async (t) => {
      if (!need(t) || !sa) return;
      const info = await waitFor(
        'BIRD protocol metallb Established',
        () => {
          const out = run('birdc', ['-s', ctl, 'show', 'protocols', 'all', 'metallb']).stdout;
          return /Established/.test(out) ? out : undefined;
        },
        30000,
      );
      assert.match(info, /Neighbor ID:\s+127\.0\.0\.1/);
      assert.match(info, new RegExp(`Neighbor AS:\\s+${variant.myAsn}\\b`));
      const st = await sa.status();
      const ip = st.services[0]?.ips[0];
      assert.equal(ip, '198.51.100.0');
      const routes = await waitFor('route at BIRD', () => {
        const r = parseBirdRoutes(run('birdc', ['-s', ctl, 'show route all where source = RTS_BGP']).stdout, { metallb: '127.0.0.1' });
        return r.length > 0 ? r : undefined;
      });
      const got = routesOf(routes, '127.0.0.1');
      assert.deepEqual(
        got.map((r) => [r.prefix, r.nextHop, r.asPath, r.origin]),
        [[`${ip}/32`, '127.0.0.1', variant.myAsn === 1234 ? [] : [2345], 'incomplete']],
      );
      if (variant.myAsn === 1234) assert.equal(got[0]?.localPref, 0, 'iBGP: LOCAL_PREF 0 as MetalLB sends by default');
    });
  });
}
