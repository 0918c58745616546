// BFDProfile fields as the BFD supervisor consumes them: echo mode warns (not supported),
// everything else maps onto the session's timers; interface peers get no BFD session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfd, ebgpPeer, load, peer } from '../config/helpers.ts';
import { bfdSpecFor, profileWarnings } from '../../../src/bfd/supervisor.ts';
import { planNode } from '../../../src/planner/index.ts';
import type { Node } from '../../../src/model/objects.ts';

test('echoMode: true is a validate warning and a runtime warning; no error', () => {
  const r = load(bfd('e', { echoMode: true, echoInterval: 20 }), bfd('plain', {}));
  assert.deepEqual(r.errors, []);
  const w = r.warnings.filter((x) => x.field === 'spec.echoMode');
  assert.equal(w.length, 1);
  assert.match(w[0]?.message ?? '', /echo mode is not supported/);
  const [e, plain] = r.config!.bfdProfiles;
  assert.match(profileWarnings(e!).join(), /echoMode is not supported.*echoInterval 20 ms is ignored/);
  assert.deepEqual(profileWarnings(plain!), []);
});

test('a BGPPeer with bfdProfile: the BFD session gets the profile timers, multi-hop for ebgpMultiHop', () => {
  const r = load(
    bfd('fast', { receiveInterval: 100, transmitInterval: 50, detectMultiplier: 5, passiveMode: true, minimumTtl: 250 }),
    peer('r', ebgpPeer({ bfdProfile: 'fast', peerAddress: '10.0.0.1', sourceAddress: '10.0.0.2' })),
    peer('m', ebgpPeer({ bfdProfile: 'fast', peerAddress: '10.9.0.1', ebgpMultiHop: true })),
  );
  assert.deepEqual(r.errors, []);
  const cfg = r.config!;
  const node: Node = { metadata: { name: 'n', labels: {} }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  const plan = planNode({ config: cfg, services: [], assignments: {}, nodes: [node], endpointSlices: [] }, 'n');
  const profile = cfg.bfdProfiles[0]!;
  const specs = plan.sessions.map((s) => bfdSpecFor(s, profile));
  const single = specs.find((s) => typeof s !== 'string' && s.peerAddress === '10.0.0.1');
  const multi = specs.find((s) => typeof s !== 'string' && s.peerAddress === '10.9.0.1');
  assert.ok(single && typeof single !== 'string' && multi && typeof multi !== 'string', JSON.stringify(specs));
  assert.equal(single.multihop, false);
  assert.equal(single.localAddress, '10.0.0.2');
  assert.deepEqual(single.timers, { transmitIntervalMs: 50, receiveIntervalMs: 100, detectMultiplier: 5, passive: true });
  assert.equal(multi.multihop, true);
  assert.equal(multi.minimumTtl, 250);
  assert.equal(multi.localAddress, '');
});
