// Passive sessions (metallb-ts.io/passive: "true"): metallb-ts standalone listens on port 179 in
// its namespace and never connects; BIRD, configured to connect (not passive), gets the routes.
// A second, unconfigured router address is refused.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import type { Bird } from '../lib/routers.ts';
import { startBirdLab } from '../lib/birdlab.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { runAsync, stopAll, waitFor } from '../lib/proc.ts';

describe('passive BGPPeer: BIRD connects to metallb-ts', { concurrency: false }, () => {
  const why = missing(['ip', 'bird', 'birdc']);
  let lab: Lab | undefined;
  let bird: Bird | undefined;
  let sa: StandaloneProcess | undefined;

  before(async () => {
    if (why) return;
    ({ lab, bird } = await startBirdLab('passive', { birdConnects: true }));
    const a = lab.addr;
    const manifests = join(lab.dir, 'manifests');
    writeManifest(
      manifests,
      'cfg.yaml',
      `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: [203.0.113.0/24]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: adv, namespace: metallb-system}
spec: {ipAddressPools: [pool]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: bird
  namespace: metallb-system
  annotations: {metallb-ts.io/passive: "true"}
spec:
  myASN: 64700
  peerASN: 64600
  peerAddress: ${a.rtr4[0] ?? ''}
  holdTime: 9s
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default, annotations: {metallb.io/loadBalancerIPs: "203.0.113.7"}}
spec: {type: LoadBalancer, ports: [{port: 80, protocol: TCP}]}
`,
    );
    sa = new StandaloneProcess({
      ns: lab.nsDut,
      manifests,
      statePath: join(lab.dir, 'state.json'),
      node: 'dut',
      nodeAddress: a.dut4[0] ?? '',
      httpPort: 7472,
      logFile: join(lab.dir, 'standalone.log'),
    });
    sa.start();
    await sa.waitReady();
  });

  after(() => stopAll([sa, bird], () => lab?.destroy()));

  it('BIRD (active) connects to the listening speaker and receives the Service /32', async (t: TestContext) => {
    if (!runnable(t, why) || !lab || !bird || !sa) return;
    const dut = lab.addr.dut4[0] ?? '';
    const ss = await runAsync('ip', ['netns', 'exec', lab.nsDut, 'ss', '-Htln', 'sport = :179']);
    assert.match(ss.stdout, /LISTEN/, 'metallb-ts listens on port 179');
    await bird.waitEstablished([dut], 30000);
    const routes = await bird.waitRoutes('203.0.113.7/32 from the passive speaker', (rs) => rs.some((r) => r.prefix === '203.0.113.7/32' && r.peer === dut));
    const r = routes.find((x) => x.prefix === '203.0.113.7/32');
    assert.equal(r?.nextHop, dut);
    assert.deepEqual(r?.asPath, [64700]);
    const st = (await sa.status()) as unknown as { sessions: { speaker: { state?: string; counters?: { connectAttempts?: number } } | null }[] };
    assert.equal(st.sessions[0]?.speaker?.state, 'Established');
    // a connection from an address that is not a configured peer is refused
    const other = lab.addr.rtr6[0] ?? '';
    const probe = await runAsync('ip', [
      'netns', 'exec', lab.nsRtr, process.execPath, '-e',
      `const s=require('net').connect({host:'${lab.addr.dut6[0] ?? ''}',port:179,localAddress:'${other}'});s.on('connect',()=>console.log('connected'));s.on('close',()=>{console.log('closed');process.exit(0)});s.on('error',e=>console.log('error',e.code));setTimeout(()=>{console.log('timeout');process.exit(0)},5000);`,
    ]);
    assert.match(probe.stdout, /connected[\s\S]*closed/, `an unconfigured address is accepted by TCP and closed at once: ${probe.stdout}`);
    const b = bird;
    await waitFor('session still up', async () => ((await b.states())[dut] === 'established' ? true : undefined), 5000);
  });
});
