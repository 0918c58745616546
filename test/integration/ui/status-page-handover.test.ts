// The status page in headless Debian Chromium while a Kubernetes speaker leaves and hands its
// Layer 2 address over, with real processes: the test API server, `metallb-ts speaker` on node1
// (its page) and a second Layer 2 member on node2 (src/layer2/main.ts, the same liveness
// protocol), on the Layer 2 lab's bridges (test/integration/layer2/lab.ts). node1 owns the
// Service IP. node2 is alive and eligible but not configured with that Service, so it never
// confirms a handover (a member that would: test/integration/layer2/handover.test.ts): when
// node1 is drained it keeps answering for the handover time (1.5 s), and the page's Layer 2
// section says "Leaving: handing over IP → node2" and the Services table marks the address;
// afterwards the section says every address was handed over.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { FakeApiServer } from '../../support/apiserver/index.ts';
import { R } from '../../../src/kube/client.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { electL2Owner } from '../../../src/planner/elect.ts';
import { Lab, missingPrerequisites } from '../layer2/lab.ts';
import { IN_CI } from '../lib/prereq.ts';
import { waitFor } from '../lib/proc.ts';
import type { Managed } from '../lib/proc.ts';
import { createReadyNode, speakerGet, startLabApiServer, startSpeakerInLab } from '../lib/kubespeaker.ts';
import { chromiumInNamespace, missingChromium, screenshot } from './chromium.ts';
const NS = 'metallb-system';
const SECRET = 'status-page-handover-secret';
const FWD_PORT = 16451;
const cands = ['node1', 'node2'].map((name) => ({ name, labels: {} }));
/** A Service IP in the data subnet that node1 owns when both speakers are alive. */
const IP = Array.from({ length: 40 }, (_, i) => `10.77.0.${60 + i}`).find((ip) => electL2Owner(ip, cands, []) === 'node1') ?? '';

describe('status page in Chromium: a leaving speaker hands its Layer 2 address over', { concurrency: false }, () => {
  const why = missingPrerequisites() ?? missingChromium();
  let lab: Lab | undefined;
  let server: FakeApiServer | undefined;
  let client: KubeClient | undefined;
  let procs: Managed[] = [];
  let browser: Browser | undefined;
  let page: Page | undefined;
  const need = (t: TestContext): boolean => {
    if (why) {
      if (IN_CI) assert.fail(`CI=true but prerequisites are missing: ${why}`);
      t.skip(why);
      return false;
    }
    assert.ok(lab && client && page && IP, 'setup failed (see before hook)');
    return true;
  };

  before(async () => {
    if (why) return;
    lab = new Lab('ui', 2);
    lab.setup();
    const [n1, n2] = lab.nodes;
    assert.ok(n1 && n2);
    ({ server, client } = await startLabApiServer(lab));
    await client.create(R.namespaces, { metadata: { name: NS } }); // "default" exists, as in a cluster
    await createReadyNode(client, 'node1', n1.mgmt);
    await createReadyNode(client, 'node2', n2.mgmt);
    await client.create(R.ipaddresspools, { metadata: { name: 'lan', namespace: NS }, spec: { addresses: ['10.77.0.60-10.77.0.99'] } });
    await client.create(R.l2advertisements, { metadata: { name: 'lan', namespace: NS }, spec: { ipAddressPools: ['lan'] } });
    await client.create(R.endpointslices, {
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true }, nodeName: 'node1' }, { addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node2' }],
      ports: [{ port: 80, protocol: 'TCP' }],
    });
    await client.create(R.services, { metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } });
    await client.patch(R.services, 'default', 'web', { status: { loadBalancer: { ingress: [{ ip: IP }] } } }, { status: true });
    // node2: a Layer 2 member with the same secret and members, without the Service
    lab.startNode(n2, {
      node: 'node2',
      secret: SECRET,
      bind: { address: n2.mgmt, port: 7946 },
      members: [{ name: 'node1', address: n1.mgmt, port: 7946 }, { name: 'node2', address: n2.mgmt, port: 7946 }],
      services: [],
      logLevel: 'info',
    });
    // node1: the Kubernetes speaker and its page
    procs = startSpeakerInLab({ nsDut: n1.ns, dir: lab.dir }, server, {
      node: 'node1',
      forwardPort: FWD_PORT,
      extraArgs: ['--ml-bind-addr', n1.mgmt, '--log-level', 'info'],
      env: { METALLB_ML_SECRET_KEY: SECRET },
    }).procs;
    await waitFor('speaker /readyz', async () => ((await speakerGet({ nsDut: n1.ns }, '/readyz')).status === 200 ? true : undefined), 90000, 300);
    ({ browser, page } = await chromiumInNamespace(n1.ns, lab.dir));
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    for (const p of procs.reverse()) await p.stop();
    await server?.close();
    await lab?.teardown();
  });

  it('drained while the next owner does not confirm: the page shows the address being handed over, then handed over', async (t) => {
    if (!need(t) || !page || !lab) return;
    const n1 = lab.nodes[0];
    assert.ok(n1);
    await page.goto('http://127.0.0.1:7472/');
    const l2 = page.locator('#layer2 .card.layer2');
    await l2.locator('dd', { hasText: /^node1, node2$|^node2, node1$/ }).waitFor({ timeout: 60000 });
    await l2.locator('dd', { hasText: IP }).waitFor({ timeout: 30000 });
    await page.locator(`tr.service[data-key="default/web"] td`, { hasText: 'node1' }).waitFor({ timeout: 30000 });
    assert.equal(await page.locator('#layer2 .handover').count(), 0, 'nothing handed over while serving');

    // the page records every text the handover notice and the Services table's mark show
    await page.evaluate(`(() => {
      window.seen = [];
      const note = () => {
        for (const sel of ['#layer2 .handover', 'tr.service .handover-pill']) {
          const el = document.querySelector(sel);
          if (el && !window.seen.includes(sel + ': ' + el.textContent)) window.seen.push(sel + ': ' + el.textContent);
        }
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    const drained = await speakerGet({ nsDut: n1.ns }, '/drain?period=1s', 'POST');
    assert.equal(drained.status, 200, drained.body);
    await page.waitForFunction(`window.seen.some((s) => s.includes('.handover-pill') && s.includes('handing over to node2'))`, undefined, { timeout: 20000 });
    const seen = (await page.evaluate('window.seen')) as string[];
    assert.ok(seen.some((s) => s.startsWith('#layer2 .handover') && s.includes('Leaving') && s.includes(`${IP} \u2192 node2`)), seen.join('\n'));
    // the handover time runs out (node2 never confirmed): every address handed over, node1 answers nothing
    await page.locator('#layer2 .handover', { hasText: 'every address handed over' }).waitFor({ timeout: 20000 });
    await l2.locator('dd', { hasText: 'nothing' }).waitFor({ timeout: 20000 });
    await l2.locator('.pill', { hasText: 'leaving' }).waitFor({ timeout: 5000 });
    await screenshot(page, 'status-page-leaving.png');
    assert.match(await page.locator('#layer2 .card.layer2 dd').first().innerText(), /node2/, 'node2 is still alive: it was simply not configured for the address');
  });
});
