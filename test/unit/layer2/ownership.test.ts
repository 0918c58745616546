import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideOwnership, hasQuorum, type ServiceEntry } from '../../../src/layer2/ownership.ts';
import { electL2Owner } from '../../../src/planner/elect.ts';

const nodes = ['n1', 'n2', 'n3'];
const cands = nodes.map((name) => ({ name, labels: { zone: name === 'n3' ? 'b' : 'a' } }));
const ips = Array.from({ length: 30 }, (_, i) => `10.0.0.${i + 1}`);
const entries: ServiceEntry[] = ips.map((ip) => ({ ip, interfaces: [], candidates: cands }));
const none = (_n: string): ReadonlySet<string> => new Set();

function view(self: string, alive: string[], selfIneligible = new Set<string>(), peer = none) {
  return decideOwnership({ self, members: nodes, alive, selfIneligible, peerIneligible: peer, entries });
}

test('all speakers with the same view agree on one owner per IP, matching electL2Owner', () => {
  const views = nodes.map((n) => view(n, nodes));
  for (const ip of ips) {
    const want = electL2Owner(ip, cands, []);
    for (const v of views) assert.equal(v.owners[ip], want);
    const announcing = views.filter((v) => v.owned.some((o) => o.ip === ip)).length;
    assert.equal(announcing, 1, ip);
  }
  // the hash spreads the IPs over the nodes
  const counts = nodes.map((_, i) => views[i]?.owned.length ?? 0);
  assert.ok(counts.every((c) => c > 0), JSON.stringify(counts));
});

test('a dead member loses its IPs to the survivors, which agree', () => {
  const dead = 'n2';
  const alive = nodes.filter((n) => n !== dead);
  const v1 = view('n1', alive);
  const v3 = view('n3', alive);
  for (const ip of ips) {
    assert.notEqual(v1.owners[ip], dead);
    assert.equal(v1.owners[ip], v3.owners[ip]);
    if (electL2Owner(ip, cands, []) !== dead) assert.equal(v1.owners[ip], electL2Owner(ip, cands, []), 'others keep theirs');
  }
  assert.equal(v1.owned.length + v3.owned.length, ips.length);
});

test('a partitioned speaker (sees only itself of three) announces nothing', () => {
  const v = view('n1', []);
  assert.equal(v.hasQuorum, false);
  assert.deepEqual(v.owned, []);
  assert.ok(Object.values(v.owners).every((o) => o === 'n1'), 'it would elect itself, which is why it must step down');
});

test('link-aware eligibility: an IP moves away from the node without a usable interface', () => {
  const ip = ips.find((i) => electL2Owner(i, cands, []) === 'n1');
  assert.ok(ip);
  const selfView = view('n1', nodes, new Set([ip]));
  assert.ok(!selfView.owned.some((o) => o.ip === ip));
  const peerView = view('n2', nodes, new Set(), (n: string): ReadonlySet<string> => (n === 'n1' ? new Set([ip]) : new Set()));
  assert.equal(selfView.owners[ip], peerView.owners[ip]);
  assert.notEqual(peerView.owners[ip], 'n1');
});

test('preferredNodeSelectors steer the owner before the hash', () => {
  const pref = [{ weight: 50, selector: { matchLabels: { zone: 'b' } } }];
  const e = ips.map((ip) => ({ ip, interfaces: ['eth1'], candidates: cands, preferred: pref }));
  const v = decideOwnership({ self: 'n3', members: nodes, alive: nodes, selfIneligible: new Set(), peerIneligible: none, entries: e });
  assert.equal(v.owned.length, ips.length);
  assert.deepEqual(v.owned[0]?.interfaces, ['eth1']);
  // n3 dead: back to the hash among n1/n2
  const w = decideOwnership({ self: 'n1', members: nodes, alive: ['n2'], selfIneligible: new Set(), peerIneligible: none, entries: e });
  assert.ok(Object.values(w.owners).every((o) => o === 'n1' || o === 'n2'));
});

test('quorum policies and the single-node (standalone) case', () => {
  assert.equal(hasQuorum('n1', ['n1'], [], 'majority'), true);
  assert.equal(hasQuorum('n1', [], [], 'majority'), true);
  assert.equal(hasQuorum('n1', ['n1', 'n2'], [], 'majority'), false);
  assert.equal(hasQuorum('n1', ['n1', 'n2', 'n3'], ['n2'], 'majority'), true);
  assert.equal(hasQuorum('n1', ['n1', 'n2', 'n3', 'n4'], ['n2'], 'majority'), false);
  assert.equal(hasQuorum('n1', ['n1', 'n2', 'n3', 'n4'], ['n2'], 'any-peer'), true);
  assert.equal(hasQuorum('n1', ['n1', 'n2', 'n3'], [], 'none'), true);
  const single = decideOwnership({ self: 'solo', members: [], alive: [], selfIneligible: new Set(), peerIneligible: none, entries: [{ ip: '10.1.1.1', interfaces: [] }] });
  assert.deepEqual(single.owned, [{ ip: '10.1.1.1', interfaces: [] }]);
});

test('candidates restrict who may own (nodeSelectors / endpoints handled by the planner)', () => {
  const e = [{ ip: '10.9.9.9', interfaces: [], candidates: [{ name: 'n2', labels: {} }] }];
  const v = decideOwnership({ self: 'n1', members: nodes, alive: nodes, selfIneligible: new Set(), peerIneligible: none, entries: e });
  assert.equal(v.owners['10.9.9.9'], 'n2');
  const dead = decideOwnership({ self: 'n1', members: nodes, alive: ['n3'], selfIneligible: new Set(), peerIneligible: none, entries: e });
  assert.equal(dead.owners['10.9.9.9'], null);
  assert.deepEqual(dead.owned, []);
});

test('a peer that is alive but has not loaded its services is not elected yet', () => {
  const ip = ips.find((i) => electL2Owner(i, cands, []) === 'n2');
  assert.ok(ip);
  const notReady = decideOwnership({ self: 'n1', members: nodes, alive: nodes, selfIneligible: new Set(), peerIneligible: none, peerReady: (n) => n !== 'n2', entries });
  assert.notEqual(notReady.owners[ip], 'n2');
  assert.equal(notReady.hasQuorum, true, 'it still counts for the quorum');
});
