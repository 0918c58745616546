// Seed 004 (MetalLB and Calico) reproduced: a BIRD in the node's namespace plays Calico's BIRD
// and already holds the one BGP session between the node address and the top-of-rack router
// (a second BIRD in the router namespace). MetalLB's standalone on that node peers with the same
// router from the same address: the router rejects it. `metallb-ts doctor --status URL
// --local-checks`, run on the node, reports the duplicate session with the seed's workaround.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Bird } from '../lib/routers.ts';
import { REPO_ROOT, StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { runAsync, stopAll, waitFor } from '../lib/proc.ts';
import { advertisementsYaml, peerYaml, poolsYaml, serviceYaml } from '../lib/interop.ts';

const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');

describe('seed 004: doctor finds the session Calico already holds (real BIRD on both ends)', { concurrency: false }, () => {
  const why = missing(['ip', 'bird', 'birdc']);
  let lab: Lab | undefined;
  let tor: Bird | undefined;
  let calico: Bird | undefined;
  let sa: StandaloneProcess | undefined;
  let manifests = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && tor && calico && sa, 'setup failed (see before hook)');
    return true;
  };

  before(async () => {
    if (why) return;
    lab = new Lab('seed004').setup();
    const a = lab.addr;
    const node = a.dut4[0] ?? '';
    tor = new Bird({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'tor'),
      asn: 64600,
      routerId: a.rtr4[0] ?? '',
      listen4: a.rtr4,
      listen6: a.rtr6,
      neighbors: [{ name: 'node1', address: node, asn: 64512 }],
    });
    calico = new Bird({
      ns: lab.nsDut,
      dir: join(lab.dir, 'calico'),
      asn: 64512,
      routerId: node,
      listen4: [node],
      listen6: [],
      neighbors: [{ name: 'tor', address: a.rtr4[0] ?? '', asn: 64600, passive: false }],
    });
    await tor.start();
    await calico.start();
    await tor.waitEstablished([node]);
    manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'pools.yaml', poolsYaml());
    writeManifest(manifests, 'advertisements.yaml', advertisementsYaml());
    writeManifest(manifests, 'peer.yaml', peerYaml({ name: 'tor', myASN: 64512, peerASN: 64600, peerAddress: a.rtr4[0] ?? '' }));
    writeManifest(manifests, 'svc.yaml', serviceYaml('web'));
    sa = new StandaloneProcess({
      ns: lab.nsDut,
      manifests,
      statePath: join(lab.dir, 'state.json'),
      node: 'node1',
      nodeAddress: node,
      httpPort: 7472,
      logFile: join(lab.dir, 'standalone.log'),
    });
    sa.start();
    await sa.waitReady();
  });

  after(() => stopAll([sa, calico, tor], () => lab?.destroy()));

  it('the router keeps the existing session and rejects ours; doctor exits 1 with duplicate-session naming bird on port 179', async (t) => {
    if (!need(t) || !sa || !lab || !tor) return;
    const st = await waitFor(
      'a failed attempt on the standalone session',
      async () => {
        const s = await sa?.status();
        const sess = s?.sessions.find((x) => x.peer === 'tor')?.speaker as { state?: string; lastError?: string } | null | undefined;
        return sess?.lastError ? sess : undefined;
      },
      30000,
      200,
    );
    assert.notEqual(st.state, 'Established');
    // Calico's session is untouched
    assert.equal((await tor.states())[lab.addr.dut4[0] ?? ''], 'established');
    const r = await runAsync(
      'ip',
      ['netns', 'exec', lab.nsDut, process.execPath, BIN, 'doctor', '-f', manifests, '--status', sa.url, '--local-checks', '--node', 'node1', '--node-address', lab.addr.dut4[0] ?? ''],
      30000,
    );
    t.diagnostic(`session lastError: ${st.lastError}\n${r.stdout}`);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^ERROR \[duplicate-session\] BGPPeer\/tor \(node node1\)$/m);
    assert.match(r.stdout, /bird \(pid \d+\) on 10\.201\.0\.101:179/);
    assert.match(r.stdout, /spine/);
  });
});
