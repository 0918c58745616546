// The status page's view model from the /status shapes (typed against the real status types
// so that a layout change breaks this test at typecheck), and the page's HTTP endpoints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StandaloneStatus } from '../../../src/standalone/runtime.ts';
import type { SessionStatus } from '../../../src/bgp/speaker/index.ts';
import { toViewModel, ROUTES_SHOWN, SERVICES_SHOWN } from '../../../src/ui/viewmodel.ts';
import type { ViewModel } from '../../../src/ui/viewmodel.ts';
import { startHttpServer } from '../../../src/observability/http.ts';

const live: SessionStatus = {
  node: 'n1',
  peer: 'rtr',
  peerAddress: '10.0.0.1',
  peerPort: 179,
  state: 'Established',
  uptimeSeconds: 42,
  peerRouterId: '10.0.0.1',
  peerASN: 64600,
  counters: {
    messagesSent: 6,
    messagesReceived: 5,
    opensSent: 1,
    opensReceived: 1,
    keepalivesSent: 2,
    keepalivesReceived: 2,
    updatesSent: 2,
    updatesReceived: 1,
    prefixesAnnounced: 1,
    prefixesWithdrawn: 0,
    notificationsSent: 0,
    notificationsReceived: 0,
    bytesSent: 200,
    connectAttempts: 1,
    gracefulRestarts: 0,
    drains: 0,
  },
  routes: ['198.51.100.7/32'],
  phase: 'established',
};

function standalone(over: Partial<StandaloneStatus> = {}): StandaloneStatus {
  return {
    node: 'n1',
    ready: true,
    stale: false,
    generation: 3,
    lastReload: { at: '2026-01-01T00:00:00.000Z', ok: true },
    configErrors: [],
    staleFiles: [],
    announced: [],
    announcedCount: 0,
    configWarnings: ['w1'],
    stateFile: { path: '/x', error: null, recovery: null },
    services: [
      { namespace: 'default', name: 'web', ips: ['198.51.100.7'], pool: 'p', error: null },
      { namespace: 'default', name: 'nope', ips: [], pool: null, error: 'no available IPs' },
    ],
    serviceCount: 2,
    sessions: [
      {
        peer: 'rtr',
        address: '10.0.0.1',
        port: 179,
        myASN: 64700,
        peerASN: 64600,
        ebgp: true,
        speaker: { ...live, routeCount: live.routes.length },
        error: null,
        routeCount: 1,
        routes: [{ prefix: '198.51.100.7/32', nextHop: null, localPref: null, communities: ['64512:7'], largeCommunities: [], weight: 3 }],
      },
      { peer: 'locked', address: '10.0.0.2', port: 179, myASN: 64700, peerASN: 64600, ebgp: true, speaker: null, error: 'passwordSecret ns/s: not found', routeCount: 0, routes: [] },
    ],
    layer2: [{ ip: '198.51.100.7', services: ['default/web'], node: 'n1', interfaces: [] }],
    layer2Announcing: null,
    layer2Agent: null,
    extensions: {},
    pools: [{ pool: 'p', inUse: 231, total: 256 }],
    ...over,
  };
}

test('standalone status -> view model', () => {
  const m = toViewModel('standalone', standalone());
  assert.equal(m.component, 'standalone');
  assert.equal(m.node, 'n1');
  assert.deepEqual(m.config, { state: 'ok', errors: [], warnings: ['w1'], staleFiles: [], generation: 3, lastReload: '2026-01-01T00:00:00.000Z' });
  assert.deepEqual(
    m.sessions.map((s) => [s.peer, s.state, s.established, s.prefixesSent, s.prefixesPlanned, s.updatesSent, s.peerRouterId, s.lastError]),
    [
      ['rtr', 'Established', true, 1, 1, 2, '10.0.0.1', null],
      ['locked', 'NotStarted', false, 0, 0, null, null, 'passwordSecret ns/s: not found'],
    ],
  );
  assert.deepEqual(m.routers[0]?.routes[0], { prefix: '198.51.100.7/32', nextHop: null, localPref: null, communities: ['64512:7'], largeCommunities: [], weight: 3, fallback: false });
  assert.deepEqual(
    m.services.map((s) => [s.key, s.ips, s.announcedTo, s.l2Owner, s.error]),
    [
      ['default/web', ['198.51.100.7'], ['rtr'], 'n1', null],
      ['default/nope', [], [], null, 'no available IPs'],
    ],
  );
  assert.deepEqual(m.pools, [{ name: 'p', inUse: 231, total: 256, percent: 90.2 }]);
  assert.equal(toViewModel('standalone', standalone({ stale: true, configErrors: ['bad'] })).config.state, 'stale');
  const staleFile = { file: 'svc.yaml', reason: 'svc.yaml:3: invalid YAML: x', effect: 'the last good configuration and this file\'s last good Services/Nodes/... stay in force' };
  assert.deepEqual(toViewModel('standalone', standalone({ stale: true, configErrors: ['bad'], staleFiles: [staleFile] })).config.staleFiles, [staleFile]);
  assert.equal(toViewModel('standalone', standalone({ ready: false, configErrors: ['bad'] })).config.state, 'invalid');
});

test('a router with more routes than the page lists says how many are hidden', () => {
  const routes = Array.from({ length: ROUTES_SHOWN + 7 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/32`, nextHop: null, localPref: null, communities: [], largeCommunities: [] }));
  const st = standalone();
  const s0 = st.sessions[0];
  assert.ok(s0);
  st.sessions = [{ ...s0, routes, routeCount: routes.length }];
  const m = toViewModel('standalone', st);
  assert.equal(m.routers[0]?.routes.length, ROUTES_SHOWN);
  assert.equal(m.routers[0]?.hidden, 7);
});

test('controller and speaker status shapes', () => {
  const c = toViewModel('controller', { leader: true, configValid: false, configErrors: ['x'], assignments: { 'a/b': { ips: ['192.0.2.1'], pool: 'p' } } });
  assert.equal(c.leader, true);
  assert.equal(c.config.state, 'invalid');
  assert.deepEqual(c.services.map((s) => [s.key, s.ips, s.pool]), [['a/b', ['192.0.2.1'], 'p']]);
  // the speaker publishes the same NodeStatus sessions as standalone
  const { sessions } = standalone();
  const s = toViewModel('speaker', { node: 'n1', ready: true, configValid: true, configErrors: [], generation: 1, sessions: sessions.slice(0, 1), layer2: [], layer2Announcing: null, layer2Agent: null, extensions: {} });
  assert.deepEqual(s.sessions.map((x) => [x.peer, x.state, x.prefixesSent, x.prefixesPlanned]), [['rtr', 'Established', 1, 1]]);
  assert.deepEqual(s.routers[0]?.routes.map((r) => r.prefix), ['198.51.100.7/32']);
  // garbage never throws
  assert.equal(toViewModel('standalone', null).sessions.length, 0);
  assert.equal(toViewModel('speaker', 'x').services.length, 0);
});

test('the page, its assets, /ui/model and the event stream are served from status()', async () => {
  let st = standalone();
  const srv = await startHttpServer({ host: '127.0.0.1', port: 0 }, { ready: () => true, status: () => st, component: 'standalone' });
  try {
    const page = await fetch(srv.url + '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<script src="\/ui\/app\.js"><\/script>/);
    assert.doesNotMatch(html, /https?:\/\//, 'no external URL in the page');
    for (const asset of ['/ui/app.js', '/ui/style.css']) {
      const r = await fetch(srv.url + asset);
      assert.equal(r.status, 200, asset);
      assert.doesNotMatch(await r.text(), /https?:\/\//, `no external URL in ${asset}`);
    }
    const model = (await (await fetch(srv.url + '/ui/model')).json()) as ViewModel;
    assert.deepEqual(model, JSON.parse(JSON.stringify(toViewModel('standalone', st))));

    const ac = new AbortController();
    const ev = await fetch(srv.url + '/ui/events', { signal: ac.signal });
    assert.equal(ev.headers.get('content-type'), 'text/event-stream');
    const reader = ev.body?.getReader();
    assert.ok(reader);
    const dec = new TextDecoder();
    let buf = '';
    const nextModel = async (): Promise<ViewModel> => {
      for (;;) {
        const m = /event: model\ndata: (.*)\n\n/.exec(buf);
        if (m) {
          buf = buf.slice((m.index ?? 0) + m[0].length);
          return JSON.parse(m[1] ?? '') as ViewModel;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buf += dec.decode(value, { stream: true });
      }
    };
    assert.equal((await nextModel()).services.length, 2);
    st = standalone({ services: [], serviceCount: 0 });
    const after = await nextModel(); // pushed by the server's 1 s check, no request from the page
    assert.equal(after.services.length, 0);
    ac.abort();
  } finally {
    await srv.close();
  }
  // without a component there is no page
  const bare = await startHttpServer({ host: '127.0.0.1', port: 0 }, { ready: () => true, status: () => ({}) });
  try {
    assert.equal((await fetch(bare.url + '/')).status, 404);
  } finally {
    await bare.close();
  }
});

test('stale received routes, routes adopted from the previous run and a Layer 2 handover reach the view model', () => {
  const st = standalone();
  const s0 = st.sessions[0];
  assert.ok(s0?.speaker);
  st.sessions = [{ ...s0, speaker: { ...s0.speaker, receiveMode: 'all', receivedPrefixes: 3, acceptedPrefixes: 2, staleReceivedPrefixes: 2, staleReceivedUntil: '2026-01-01T00:02:00.000Z', phase: 'established' } }];
  st.extensions = { receivedRoutes: { table: 254, metric: 20, installed: 3, failed: [{ prefix: '10.9.0.0/24', error: 'no route to the next hop' }], staleRemoved: 0, recursive: 1, adoptedFromPreviousRun: 1, routeCount: 3 } };
  st.layer2Agent = {
    mode: 'gossip',
    problem: null,
    members: [],
    agent: {
      node: 'n1',
      hasQuorum: true,
      alive: ['n1', 'n2'],
      members: [],
      ineligible: [],
      owners: { '198.51.100.7': 'n2' },
      announcing: [{ ip: '198.51.100.7', interfaces: ['eth0'] }],
      handingOver: [{ ip: '198.51.100.7', to: 'n2', remainingMs: 1200 }],
      leaving: { handingOver: [{ ip: '198.51.100.7', to: 'n2' }] },
      stats: {},
    },
  };
  const m = toViewModel('standalone', st);
  assert.deepEqual(
    m.sessions.map((s) => [s.prefixesReceived, s.prefixesAccepted, s.staleReceived, s.staleReceivedUntil]),
    [[3, 2, 2, '2026-01-01T00:02:00.000Z']],
  );
  assert.deepEqual(m.received, { table: 254, metric: 20, installed: 3, recursive: 1, failed: [{ prefix: '10.9.0.0/24', error: 'no route to the next hop' }], adoptedFromPreviousRun: 1 });
  assert.deepEqual(m.layer2, { mode: 'gossip', problem: null, hasQuorum: true, alive: ['n1', 'n2'], announcing: ['198.51.100.7'], leaving: true, handingOver: [{ ip: '198.51.100.7', to: 'n2', remainingMs: 1200 }] });
  assert.deepEqual(m.services.find((s) => s.key === 'default/web')?.l2HandingOverTo, { to: 'n2' });
  // not leaving, no receive policy, no kernel sync: nothing of it
  const plain = toViewModel('standalone', standalone());
  assert.equal(plain.received, null);
  assert.equal(plain.layer2, null);
  assert.deepEqual(plain.sessions.map((s) => [s.prefixesReceived, s.prefixesAccepted, s.staleReceived]), [[null, null, 0], [null, null, 0]]);
  assert.equal(plain.services[0]?.l2HandingOverTo, null);
});

test('the page lists at most SERVICES_SHOWN Services and counts the others (serviceCount from /status)', () => {
  const st = standalone({ serviceCount: 1234 });
  const m = toViewModel('standalone', st);
  assert.equal(m.services.length, 2);
  assert.equal(m.servicesHidden, 1232);
  const many = standalone({ services: Array.from({ length: SERVICES_SHOWN + 3 }, (_, i) => ({ namespace: 'd', name: `s${i}`, ips: [], pool: null, error: 'x' })), serviceCount: SERVICES_SHOWN + 3 });
  const mm = toViewModel('standalone', many);
  assert.equal(mm.services.length, SERVICES_SHOWN);
  assert.equal(mm.servicesHidden, 3);
});
