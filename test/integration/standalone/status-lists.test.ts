// /status of a real `metallb-ts standalone` process holding more routes and Services than the
// default list limit, over HTTP, with a real BIRD session: the default answer cuts the lists at
// 1000 entries and says so, ?routes=count / ?services=count give counts only, ?routes=all the
// whole lists (streamed), and bad parameters are refused. The status page and /metrics keep
// working from the same process.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import type { Bird } from '../lib/routers.ts';
import { startBirdLab } from '../lib/birdlab.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { stopAll, waitFor } from '../lib/proc.ts';
import { peerYaml } from '../lib/interop.ts';

const SERVICES = 1200;
const LIMIT = 1000;

function configYaml(rtr: string): string {
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: big, namespace: metallb-system }
spec: { addresses: [10.96.0.0/20] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: big, namespace: metallb-system }
spec: { ipAddressPools: [big] }
---
${peerYaml({ name: 'bird-rtr', myASN: 64700, peerASN: 64600, peerAddress: rtr })}---
${peerYaml({ name: 'nobody', myASN: 64700, peerASN: 64600, peerAddress: rtr, peerPort: 1790 })}`;
}

function servicesYaml(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) docs.push(`apiVersion: v1\nkind: Service\nmetadata: { name: svc-${String(i).padStart(4, '0')}, namespace: default }\nspec: { type: LoadBalancer, ports: [{ port: 80 }] }\n`);
  return docs.join('---\n');
}

interface Session {
  peer: string;
  routeCount: number;
  routes?: { prefix: string }[];
  speaker: { state: string; routeCount: number; routes?: string[] } | null;
}
interface Status {
  sessions: Session[];
  services?: { namespace: string; name: string; ips: string[] }[];
  serviceCount: number;
  announced?: unknown[];
  announcedCount: number;
  truncated?: { lists: string[]; routes: unknown; services: unknown; full: string };
}

describe('/status list limits of a real standalone process', { concurrency: false }, () => {
  const why = missing(['ip', 'bird', 'birdc']);
  let lab: Lab | undefined;
  let bird: Bird | undefined;
  let sa: StandaloneProcess | undefined;
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && bird && sa, 'setup failed (see before hook)');
    return true;
  };
  const get = async (path: string): Promise<Status> => {
    const r = await sa?.get(path);
    assert.equal(r?.status, 200, `${path}: ${r?.body.slice(0, 300)}`);
    return JSON.parse(r?.body ?? '') as Status;
  };

  before(async () => {
    if (why) return;
    ({ lab, bird } = await startBirdLab('stlists'));
    const a = lab.addr;
    const manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'config.yaml', configYaml(a.rtr4[0] ?? ''));
    writeManifest(manifests, 'services.yaml', servicesYaml(SERVICES));
    sa = new StandaloneProcess({
      ns: lab.nsDut,
      manifests,
      statePath: join(lab.dir, 'state.json'),
      node: 'dut',
      nodeAddress: a.dut4[0] ?? '',
      httpPort: 7472,
      logFile: join(lab.dir, 'standalone.log'),
      extraArgs: ['--log-level', 'info'],
    });
    sa.start();
    await sa.waitReady(60000);
    // every route sent to BIRD (the Adj-RIB-Out is full too)
    await waitFor(
      'all routes sent to BIRD',
      async () => {
        const st = await get('/status?routes=count&services=count');
        const s = st.sessions.find((x) => x.peer === 'bird-rtr');
        return s?.speaker?.state === 'Established' && s.speaker.routeCount === SERVICES ? true : undefined;
      },
      90000,
      300,
    );
  });

  after(async () => {
    await stopAll([sa, bird], () => lab?.destroy());
  });

  it('the default answer cuts every long list at 1000 entries, counts them and says how to get them whole', async (t) => {
    if (!need(t)) return;
    const st = await get('/status');
    assert.equal(st.serviceCount, SERVICES);
    assert.equal(st.services?.length, LIMIT);
    // the first 1000 in namespace/name order
    assert.deepEqual(st.services?.slice(0, 2).map((s) => s.name), ['svc-0000', 'svc-0001']);
    assert.equal(st.services?.at(-1)?.name, `svc-${String(LIMIT - 1).padStart(4, '0')}`);
    assert.equal(st.announcedCount, SERVICES);
    assert.equal(st.announced?.length, LIMIT);
    for (const s of st.sessions) {
      assert.equal(s.routeCount, SERVICES, s.peer);
      assert.equal(s.routes?.length, LIMIT, s.peer);
    }
    const rtr = st.sessions.find((s) => s.peer === 'bird-rtr');
    assert.equal(rtr?.speaker?.routeCount, SERVICES);
    assert.equal(rtr?.speaker?.routes?.length, LIMIT);
    assert.equal(st.sessions.find((s) => s.peer === 'nobody')?.speaker?.routeCount, 0, 'the session that never came up sent nothing');
    assert.deepEqual(st.truncated, {
      lists: ['sessions[bird-rtr].routes', 'sessions[bird-rtr].speaker.routes', 'sessions[nobody].routes', 'announced', 'services'],
      routes: LIMIT,
      services: LIMIT,
      full: '/status?routes=all&services=all',
    });
  });

  it('?routes=count&services=count leaves the lists out and keeps the counts', async (t) => {
    if (!need(t) || !sa) return;
    const r = await sa.get('/status?routes=count&services=count');
    const st = JSON.parse(r.body) as Status;
    assert.equal(st.services, undefined);
    assert.equal(st.announced, undefined);
    assert.equal(st.serviceCount, SERVICES);
    assert.equal(st.announcedCount, SERVICES);
    assert.equal(st.truncated, undefined);
    for (const s of st.sessions) {
      assert.equal(s.routes, undefined, s.peer);
      assert.equal(s.routeCount, SERVICES, s.peer);
      assert.equal(s.speaker?.routes, undefined, s.peer);
    }
    const full = await sa.get('/status?routes=all&services=all');
    assert.ok(r.body.length * 20 < full.body.length, `counts ${r.body.length} bytes, whole ${full.body.length} bytes`);
  });

  it('?routes=all&services=all gives every entry (the same as BIRD holds); ?routes=N cuts at N', async (t) => {
    if (!need(t) || !bird || !lab) return;
    const st = await get('/status?routes=all&services=all');
    assert.equal(st.truncated, undefined);
    assert.equal(st.services?.length, SERVICES);
    const rtr = st.sessions.find((s) => s.peer === 'bird-rtr');
    assert.equal(rtr?.routes?.length, SERVICES);
    assert.equal(rtr?.speaker?.routes?.length, SERVICES);
    const atBird = new Set((await bird.routes()).map((r) => r.prefix));
    assert.equal(atBird.size, SERVICES);
    assert.deepEqual(new Set(rtr?.speaker?.routes), atBird, 'the Adj-RIB-Out listed is what BIRD holds');
    assert.deepEqual(new Set(st.services?.map((s) => `${s.ips[0] ?? ''}/32`)), atBird);

    const few = await get('/status?routes=3&services=all');
    assert.deepEqual(few.sessions.map((s) => s.routes?.length), [3, 3]);
    assert.equal(few.services?.length, SERVICES);
    assert.deepEqual(few.truncated?.lists, ['sessions[bird-rtr].routes', 'sessions[bird-rtr].speaker.routes', 'sessions[nobody].routes']);
  });

  it('bad parameters are refused with 400 and the accepted forms', async (t) => {
    if (!need(t) || !sa) return;
    for (const q of ['routes=lots', 'route=all', 'services=-5']) {
      const r = await sa.get(`/status?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.body, /want routes=all\|count\|N, services=all\|count\|N/, q);
    }
  });

  it('/metrics still counts every route and announcement; the status page model says what it leaves out', async (t) => {
    if (!need(t) || !sa) return;
    const m = await sa.get('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, new RegExp(`metallb_bgp_announced_prefixes_total\\{[^}]*bgppeer="bird-rtr"[^}]*\\} ${SERVICES}\\b`));
    const announced = m.body.split('\n').filter((l) => l.startsWith('metallb_speaker_announced{'));
    assert.equal(announced.length, SERVICES, 'one series per announced address');
    const model = JSON.parse((await sa.get('/ui/model')).body) as { services: unknown[]; servicesHidden: number; routesPartial: boolean; routers: { routes: unknown[]; hidden: number }[] };
    assert.equal(model.services.length, 500);
    assert.equal(model.servicesHidden, SERVICES - 500);
    assert.equal(model.routesPartial, true);
    assert.deepEqual(model.routers.map((r) => [r.routes.length, r.hidden]), [[500, SERVICES - 500], [500, SERVICES - 500]]);
  });
});
