// The README quickstart, literally: `metallb-ts standalone -f <copy of examples/standalone>
// --node quickstart` next to BIRD 2 started from examples/bird/bird.conf as written, both in one
// network namespace created (and deleted) by this test. Checks what examples/standalone/README.md
// promises: the /32 with both communities arrives, an edit of service.yaml moves it, an invalid
// edit keeps the last good routes, SIGTERM withdraws them (BIRD: Administrative shutdown).

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { parseBirdRoutes } from '../lib/routers.ts';
import type { RouterRoute } from '../lib/routers.ts';
import { REPO_ROOT, StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { run, startProcess, stopAll, waitFor } from '../lib/proc.ts';
import type { Managed } from '../lib/proc.ts';

describe('README quickstart: examples/standalone + examples/bird/bird.conf', { concurrency: false }, () => {
  const why = missing(['ip', 'bird', 'birdc']);
  let lab: Lab | undefined;
  let bird: Managed | undefined;
  let sa: StandaloneProcess | undefined;
  let ctl = '';
  let manifests = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && bird && sa, 'setup failed (see before hook)');
    return true;
  };
  const routes = (): RouterRoute[] =>
    parseBirdRoutes(run('birdc', ['-s', ctl, 'show route all where source = RTS_BGP']).stdout, { metallb: '127.0.0.1' });
  const routeSet = (): string =>
    routes()
      .map((r) => `${r.prefix} ${r.nextHop} ${r.communities.join(',')} ${r.largeCommunities.join(',')}`)
      .sort()
      .join('; ');

  before(async () => {
    if (why) return;
    lab = new Lab('quickstart', { single: true }).setup();
    const dir = lab.dir;
    ctl = join(dir, 'bird.ctl');
    const conf = join(REPO_ROOT, 'examples', 'bird', 'bird.conf');
    bird = startProcess('bird', 'ip', ['netns', 'exec', lab.nsRtr, 'bird', '-f', '-c', conf, '-s', ctl], join(dir, 'bird.out'));
    await waitFor('birdc', () => (run('birdc', ['-s', ctl, 'show', 'status']).status === 0 ? true : undefined), 10000, 50);
    // a copy, so that the test's edits never touch the repository's example
    manifests = join(dir, 'manifests');
    cpSync(join(REPO_ROOT, 'examples', 'standalone'), manifests, { recursive: true });
    sa = new StandaloneProcess({
      ns: lab.nsRtr,
      manifests,
      statePath: join(dir, 'state.json'),
      node: 'quickstart',
      nodeAddress: '127.0.0.1',
      httpPort: 7472,
      logFile: join(dir, 'standalone.log'),
    });
    sa.start();
    await sa.waitReady();
  });

  after(() => stopAll([sa, bird], () => lab?.destroy()));

  it('BIRD gets 203.0.113.10/32 with 64512:100 and 64512:1:2 from AS 64512', async (t) => {
    if (!need(t)) return;
    const got = await waitFor('route at BIRD', () => (routeSet() === '' ? undefined : routes()), 30000);
    assert.deepEqual(
      got.map((r) => [r.prefix, r.nextHop, r.asPath, r.origin, r.communities, r.largeCommunities]),
      [['203.0.113.10/32', '127.0.0.1', [64512], 'incomplete', ['64512:100'], ['64512:1:2']]],
    );
    const proto = run('birdc', ['-s', ctl, 'show', 'protocols', 'all', 'metallb']).stdout;
    assert.match(proto, /Neighbor ID:\s+127\.0\.0\.1/);
  });

  it('editing service.yaml (loadBalancerIPs annotation) moves the route', async (t) => {
    if (!need(t)) return;
    const svc = readFileSync(join(manifests, 'service.yaml'), 'utf8').replace(
      '  namespace: default\n',
      '  namespace: default\n  annotations:\n    metallb.io/loadBalancerIPs: 203.0.113.15\n',
    );
    assert.match(svc, /loadBalancerIPs/);
    writeManifest(manifests, 'service.yaml', svc);
    await waitFor('203.0.113.15/32 only', () => (routeSet() === '203.0.113.15/32 127.0.0.1 64512:100 64512:1:2' ? true : undefined), 20000);
  });

  it('an invalid edit keeps the last good routes and is reported as stale', async (t) => {
    if (!need(t) || !sa) return;
    const adv = readFileSync(join(manifests, 'advertisement.yaml'), 'utf8');
    writeManifest(manifests, 'advertisement.yaml', adv.replace('64512:100', 'no-export'));
    const st = await waitFor('stale status', async () => {
      const s = await sa?.status();
      return s?.stale ? s : undefined;
    });
    assert.ok(st.configErrors.some((e) => e.includes('advertisement.yaml:10: BGPAdvertisement/quickstart: spec.communities[0]: unknown community alias "no-export"')), st.configErrors.join('\n'));
    assert.equal(routeSet(), '203.0.113.15/32 127.0.0.1 64512:100 64512:1:2');
    // fixed with a real value: re-announced with the new community
    writeManifest(manifests, 'advertisement.yaml', adv.replace('64512:100', '65535:65281'));
    await waitFor('new community', () => (routeSet() === '203.0.113.15/32 127.0.0.1 65535:65281 64512:1:2' ? true : undefined), 20000);
  });

  it('SIGTERM withdraws the routes (Administrative shutdown) and exits 0', async (t) => {
    if (!need(t) || !sa?.proc) return;
    const proc = sa.proc;
    proc.signal('SIGTERM');
    assert.ok(await proc.waitExit(10000), 'standalone did not exit within 10 s of SIGTERM');
    assert.equal(proc.exitCode, 0);
    await waitFor('routes withdrawn', () => (routeSet() === '' ? true : undefined), 10000);
    assert.match(run('birdc', ['-s', ctl, 'show', 'protocols', 'metallb']).stdout, /Administrative shutdown/);
  });
});
