// The live status page in headless Debian Chromium (driven by playwright-core, which never
// downloads a browser): a standalone process in a DUT namespace peered with a real BIRD in the
// router namespace. The page shows the Service IP, the session Established and the route;
// deleting the Service file updates the page without a reload. Screenshots (desktop and phone
// width) are saved under artifacts/ui/ (gitignored; CI keeps them as artifacts).

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import type { Bird } from '../lib/routers.ts';
import { startBirdLab } from '../lib/birdlab.ts';
import { StandaloneProcess, removeManifest, writeManifest } from '../lib/standalone.ts';
import { stopAll } from '../lib/proc.ts';
import { advertisementsYaml, peerYaml, poolsYaml, routesOf, serviceYaml } from '../lib/interop.ts';
import { chromiumInNamespace, missingChromium, screenshot } from './chromium.ts';


describe('status page in Chromium against standalone + BIRD', { concurrency: false }, () => {
  const why = missing(['ip', 'bird', 'birdc']) ?? missingChromium();
  let lab: Lab | undefined;
  let bird: Bird | undefined;
  let sa: StandaloneProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let manifests = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && bird && sa && page, 'setup failed (see before hook)');
    return true;
  };

  before(async () => {
    if (why) return;
    ({ lab, bird } = await startBirdLab('ui'));
    const a = lab.addr;
    manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'pools.yaml', poolsYaml());
    writeManifest(manifests, 'advertisements.yaml', advertisementsYaml());
    writeManifest(manifests, 'peer.yaml', peerYaml({ name: 'bird-rtr', myASN: 64700, peerASN: 64600, peerAddress: a.rtr4[0] ?? '' }));
    writeManifest(manifests, 'svc.yaml', serviceYaml('web'));
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
    // Chromium runs inside the DUT namespace (the HTTP endpoint listens on its loopback);
    // playwright talks to it over a pipe, which `ip netns exec` passes through
    ({ browser, page } = await chromiumInNamespace(lab.nsDut, lab.dir));
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await stopAll([sa, bird], () => lab?.destroy());
  });

  it('shows the Service IP, the session Established and the route; a screenshot is saved', async (t) => {
    if (!need(t) || !sa || !bird || !lab || !page) return;
    const st = await sa.status();
    const ip = st.services.find((s) => s.name === 'web')?.ips[0];
    assert.ok(ip, JSON.stringify(st.services));
    await bird.waitRoutes(`${ip}/32 at BIRD`, (all) => routesOf(all, lab?.addr.dut4[0] ?? '').some((r) => r.prefix === `${ip}/32`));

    await page.goto(sa.url + '/');
    const svc = page.locator('tr.service[data-key="default/web"]');
    await svc.waitFor({ timeout: 15000 });
    assert.match(await svc.innerText(), new RegExp(ip.replace(/\./g, '\\.')));
    assert.match(await svc.innerText(), /bird-rtr/, 'announced to the BIRD session');
    const session = page.locator('.session[data-peer="bird-rtr"] .pill');
    // (browser-side expressions are strings: this file is type-checked without the DOM library)
    await page.waitForFunction(`document.querySelector('.session[data-peer="bird-rtr"] .pill')?.textContent === 'Established'`, undefined, { timeout: 30000 });
    assert.equal(await session.innerText(), 'Established');
    const route = page.locator('details[data-peer="bird-rtr"] tr.route', { hasText: `${ip}/32` });
    await route.waitFor({ timeout: 15000 });

    const desktop = await screenshot(page, 'status-page-desktop.png');
    await page.setViewportSize({ width: 390, height: 844 });
    const phone = await screenshot(page, 'status-page-phone.png');
    // on a phone the tables stack: no horizontal scrolling
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    assert.ok(overflow <= 0, `page is ${overflow}px wider than a 390px phone screen`);
    await page.setViewportSize({ width: 1280, height: 900 });
    t.diagnostic(`screenshots: ${desktop} ${phone}`);
  });

  it('deleting the Service file updates the page without a reload', async (t) => {
    if (!need(t) || !sa || !page) return;
    await page.evaluate('window.marker = 42');
    removeManifest(manifests, 'svc.yaml');
    await page.locator('tr.service[data-key="default/web"]').waitFor({ state: 'detached', timeout: 15000 });
    await page.locator('#services .empty').waitFor({ timeout: 5000 });
    await page.waitForFunction(`document.querySelectorAll('details[data-peer="bird-rtr"] tr.route').length === 0`, undefined, { timeout: 15000 });
    assert.equal(await page.evaluate('window.marker'), 42, 'the page was not reloaded');
    await screenshot(page, 'status-page-after-delete.png');
  });
});
