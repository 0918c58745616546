// Headless Debian Chromium for the status page tests, driven by playwright-core (which never
// downloads a browser), running inside a test network namespace: the process's HTTP endpoint
// listens on that namespace's loopback; playwright talks to Chromium over a pipe, which
// `ip netns exec` passes through. Screenshots go to artifacts/ui/ (gitignored; CI keeps them).

import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT } from '../lib/standalone.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(REPO_ROOT, 'artifacts', 'ui');

/** Why Chromium cannot run here, or undefined. */
export function missingChromium(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `missing ${CHROMIUM} (Debian package chromium)`;
}

/** Chromium started inside namespace `ns` (a wrapper script written to `dir`), with one desktop-sized page. */
export async function chromiumInNamespace(ns: string, dir: string): Promise<{ browser: Browser; page: Page }> {
  const wrapper = join(dir, 'chromium-in-ns.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({
    executablePath: wrapper,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60000,
  });
  return { browser, page: await browser.newPage({ viewport: { width: 1280, height: 900 } }) };
}

/** Saves a full-page screenshot under artifacts/ui/ and names it in the test output; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  process.stdout.write(`# status page screenshot: ${path}\n`);
  return path;
}
