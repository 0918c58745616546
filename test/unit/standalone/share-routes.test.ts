// shareRoutes: sessions with identical routes share one array (memory), others keep theirs;
// the NodeAgent applies it; /status shows the same routes either way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { shareRoutes } from '../../../src/node/share.ts';
import { Standalone } from '../../../src/standalone/runtime.ts';
import { NodeAgent } from '../../../src/node/agent.ts';
import { parseInputs } from '../../../src/config/load.ts';
import { RecordingSpeaker } from '../helpers/speaker.ts';
import type { PlannedRoute, SessionPlan } from '../../../src/planner/types.ts';
import { hostPrefix, parseIP } from '../../../src/ip/index.ts';
import { makePeer } from '../helpers/peer.ts';

const src = { file: 'x.yaml', line: 1, kind: 'K', name: 'n' };

function route(ip: string, extra: Partial<PlannedRoute> = {}): PlannedRoute {
  return { prefix: hostPrefix(parseIP(ip)), communities: [1], largeCommunities: [[1, 2, 3]], ...extra };
}

function session(peer: string, routes: PlannedRoute[]): SessionPlan {
  return { node: 'n1', peer, config: makePeer(peer, '127.0.0.2', 64512, 64513, src), ebgp: true, routes };
}

test('identical route lists are shared, different ones are kept', () => {
  const a = session('a', [route('192.0.2.1'), route('192.0.2.2')]);
  const b = session('b', [route('192.0.2.1'), route('192.0.2.2')]);
  const c = session('c', [route('192.0.2.1'), route('192.0.2.2', { localPref: 100 })]);
  const d = session('d', [route('192.0.2.1'), route('192.0.2.2', { communities: [2] })]);
  const e = session('e', [route('192.0.2.1'), route('192.0.2.2', { largeCommunities: [[1, 2, 4]] })]);
  const f = session('f', [route('192.0.2.1'), route('192.0.2.2', { nextHop: parseIP('192.0.2.9') })]);
  const g = session('g', [route('192.0.2.1')]);
  const h = session('h', [route('192.0.2.1'), route('192.0.2.2', { localPref: 100 })]);
  const out = shareRoutes([a, b, c, d, e, f, g, h]);
  assert.equal(out.length, 8);
  assert.deepEqual(out.map((s) => s.peer), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  assert.equal(out[0], a);
  assert.equal(out[1]?.routes, a.routes, 'b shares a');
  assert.notEqual(out[1], b, 'b itself is not modified');
  assert.equal(b.routes.length, 2);
  for (const i of [2, 3, 4, 5, 6]) assert.equal(out[i]?.routes, [a, b, c, d, e, f, g][i]?.routes, `${i} keeps its own`);
  assert.equal(out[7]?.routes, c.routes, 'h shares c');
  // same content as before, session by session
  assert.deepEqual(
    out.map((s) => s.routes),
    [a, b, c, d, e, f, g, h].map((s) => s.routes),
  );
});

const FOLDER = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: one, namespace: metallb-system }
spec: { addresses: [192.0.2.1-192.0.2.2] }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: two, namespace: metallb-system }
spec: { addresses: [192.0.2.3/32] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: ab, namespace: metallb-system }
spec: { ipAddressPools: [one], peers: [a, b] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: c, namespace: metallb-system }
spec: { ipAddressPools: [two], peers: [c] }
${['a', 'b', 'c']
  .map(
    (p, i) => `---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: ${p}, namespace: metallb-system }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 127.0.0.${i + 2} }
`,
  )
  .join('')}${['s1', 's2', 's3']
  .map(
    (n, i) => `---
apiVersion: v1
kind: Service
metadata: { name: ${n}, namespace: default, annotations: { metallb.io/address-pool: ${i < 2 ? 'one' : 'two'} } }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
`,
  )
  .join('')}`;

test('the NodeAgent shares identical route lists; /status lists the routes of every session, shared or not', () => {
  const logger = pino({ level: 'silent' });
  const speaker = new RecordingSpeaker();
  const rt = new Standalone(
    { paths: ['/x'], node: 'n1', nodeAddress: '127.0.0.1', statePath: '/nonexistent-dir-mlbts/state.json', logger },
    { readInputs: () => parseInputs([{ file: 'all.yaml', text: FOLDER }]), agent: new NodeAgent({ node: 'n1', logger, bgp: speaker }) },
  );
  assert.equal(rt.reload().ok, true);
  const [a, b, c] = speaker.last();
  assert.deepEqual([a?.peer, b?.peer, c?.peer], ['a', 'b', 'c']);
  assert.equal(a?.routes, b?.routes, 'a and b hold one array');
  assert.notEqual(a?.routes, c?.routes);
  const st = JSON.parse(JSON.stringify(rt.status())) as { sessions: { peer: string; routes: { prefix: string }[] }[] };
  assert.deepEqual(
    st.sessions.map((s) => [s.peer, s.routes.map((r) => r.prefix)]),
    [
      ['a', ['192.0.2.1/32', '192.0.2.2/32']],
      ['b', ['192.0.2.1/32', '192.0.2.2/32']],
      ['c', ['192.0.2.3/32']],
    ],
  );
});
