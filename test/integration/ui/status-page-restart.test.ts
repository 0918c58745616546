// The status page in headless Debian Chromium during graceful restarts, with real processes: a
// `metallb-ts standalone` receiving two prefixes from a real FRR (graceful restart on both
// sides, routes installed in the DUT namespace's kernel). While FRR restarts, the session's card
// says how many received routes are kept as stale and until when; after our own graceful
// restart, the "Received routes" section says how many routes of the previous run are kept
// (adopted) and not re-learned yet, until the restart time is over.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { run, stopAll, waitFor } from '../lib/proc.ts';
import { StandaloneProcess, shortenRestartMarker, writeManifest } from '../lib/standalone.ts';
import { bgpPrefixes } from '../lib/kernelroutes.ts';
import { chromiumInNamespace, missingChromium, screenshot } from './chromium.ts';
const KEEP = '10.100.0.0/24';
const GONE = '10.101.0.0/24';
const ORPHAN = '10.102.0.0/24';

const manifest = (rtr: string): string => `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: {name: receive, namespace: frr-k8s-system}
spec:
  bgp:
    routers:
    - asn: 64500
      neighbors:
      - address: ${rtr}
        asn: 64600
        enableGracefulRestart: true
        connectTime: 1s
        holdTime: 9s
        toReceive:
          allowed:
            mode: all
`;

describe('status page in Chromium: stale received routes and routes adopted over a graceful restart (standalone + FRR)', { concurrency: false }, () => {
  const why = missing(['ip', 'bgpd', 'vtysh']) ?? missingChromium();
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  let sa: StandaloneProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let rtr = '';
  let dut = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa && page, 'setup failed (see before hook)');
    return true;
  };
  const card = (): string => `.session:has-text("${rtr}")`;
  const kernel = (): string[] => bgpPrefixes(lab?.nsDut ?? '');

  before(async () => {
    if (why) return;
    lab = new Lab('ui-gr').setup();
    rtr = lab.addr.rtr4[0] ?? '';
    dut = lab.addr.dut4[0] ?? '';
    frr = new Frr({
      ns: lab.nsRtr, dir: join(lab.dir, 'frr'), asn: 64600, routerId: rtr, listen4: [rtr], listen6: [],
      neighbors: [{ name: 'dut', address: dut, asn: 64500, holdTime: 9 }],
    });
    frr.opts.gracefulRestart = true;
    frr.opts.frrRouterLines = ['bgp graceful-restart preserve-fw-state', 'bgp graceful-restart restart-time 120'];
    frr.opts.frrNetworks = [KEEP, GONE];
    await frr.start();
    const manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'receive.yaml', manifest(rtr));
    sa = new StandaloneProcess({ ns: lab.nsDut, manifests, statePath: join(lab.dir, 'state.json'), node: 'dut', nodeAddress: dut, httpPort: 7472, logFile: join(lab.dir, 'standalone.log') });
    sa.start();
    await sa.waitReady(60000);
    await frr.waitEstablished([dut], 60000);
    ({ browser, page } = await chromiumInNamespace(lab.nsDut, lab.dir));
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await stopAll([sa, frr], () => lab?.destroy());
  });

  it('FRR restarts gracefully: the session card shows the received routes kept as stale, then nothing stale', async (t) => {
    if (!need(t) || !page || !frr || !sa) return;
    await waitFor('both routes in the kernel', () => (kernel().length === 2 ? true : undefined), 30000);
    await page.goto(sa.url + '/');
    await page.locator(`${card()} .pill`, { hasText: 'Established' }).waitFor({ timeout: 30000 });
    // received / accepted counts on the card, and the kernel's view in "Received routes"
    await page.locator(`${card()} dd`, { hasText: '2 (2 accepted)' }).waitFor({ timeout: 15000 });
    await page.locator('#received .received-installed', { hasText: '2' }).waitFor({ timeout: 15000 });
    assert.equal(await page.locator(`${card()} .stale-received`).count(), 0, 'nothing stale while FRR runs');

    await frr.stop(); // SIGTERM: bgpd closes the session as a graceful restart
    const stale = page.locator(`${card()} .stale-received`);
    await stale.waitFor({ timeout: 30000 });
    const text = await stale.innerText();
    assert.match(text, /2 received routes kept as stale/, text);
    assert.match(text, /peer restarting/i, text);
    assert.match(text, /until \d{1,2}:\d{2}:\d{2}/, text);
    assert.deepEqual(kernel(), [KEEP, GONE].sort(), 'still forwarding with them');
    await screenshot(page, 'status-page-peer-restart.png');

    frr.opts.frrNetworks = [KEEP];
    await frr.start();
    await stale.waitFor({ state: 'detached', timeout: 60000 });
    await page.locator(`${card()} .pill`, { hasText: 'Established' }).waitFor({ timeout: 30000 });
    await page.locator(`${card()} dd`, { hasText: '1 (1 accepted)' }).waitFor({ timeout: 30000 });
  });

  it('metallb-ts restarts gracefully: "Received routes" shows the route of the previous run kept until the restart time is over', async (t) => {
    if (!need(t) || !page || !sa || !lab) return;
    await waitFor('the route FRR still announces is in the kernel alone', () => (JSON.stringify(kernel()) === JSON.stringify([KEEP]) ? true : undefined), 30000);
    await sa.stop(); // SIGTERM = graceful restart
    // a route of the previous run that no session announces again, and a restart time cut to
    // ~20 s in the marker the stopped process wrote: the new process adopts it until then
    run('ip', ['-n', lab.nsDut, 'route', 'add', ORPHAN, 'via', rtr, 'proto', 'bgp', 'metric', '20']);
    assert.ok(shortenRestartMarker(join(lab.dir, 'state.json.restart'), 20) > 0, 'the stopped process wrote its restart marker');
    sa.start();
    await sa.waitReady(60000);
    await page.goto(sa.url + '/');
    // both routes of the previous run are adopted at start; once the session re-learned KEEP,
    // only the orphan is left
    const adopted = page.locator('#received .adopted');
    await page.locator(`${card()} .pill`, { hasText: 'Established' }).waitFor({ timeout: 30000 });
    await page.locator('#received .adopted', { hasText: /^1 route of the previous run kept over our graceful restart/ }).waitFor({ timeout: 30000 });
    await screenshot(page, 'status-page-adopted.png');
    // the restart time runs out: the orphan leaves the kernel and the notice the page
    await adopted.waitFor({ state: 'detached', timeout: 60000 });
    assert.deepEqual(kernel(), [KEEP]);
  });
});
