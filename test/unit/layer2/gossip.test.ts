import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeGossip, decodeGossip, GossipError, MemberTable, type GossipMessage } from '../../../src/layer2/gossip.ts';

const secret = Buffer.from('0123456789abcdef-shared');
const msg = (over: Partial<GossipMessage> = {}): GossipMessage => ({ node: 'n2', boot: 'b1', seq: 1, ts: 1_000_000, ineligible: [], ready: true, leaving: false, announcing: [], ...over });

test('encode/decode round trip', () => {
  const m = msg({ ineligible: ['10.0.0.5', '2001:db8::5'], leaving: true, seq: 42 });
  assert.deepEqual(decodeGossip(encodeGossip(m, secret), secret), m);
});

test('wrong secret, tampering, truncation, bad magic/version are rejected', () => {
  const wire = encodeGossip(msg(), secret);
  assert.throws(() => decodeGossip(wire, Buffer.from('another-secret-123456')), /bad HMAC/);
  const t = Buffer.from(wire);
  t[t.length - 3] = (t[t.length - 3] ?? 0) ^ 1;
  assert.throws(() => decodeGossip(t, secret), /bad HMAC/);
  assert.throws(() => decodeGossip(wire.subarray(0, 20), secret), /too short/);
  const magic = Buffer.from(wire);
  magic[0] = 0x58;
  assert.throws(() => decodeGossip(magic, secret), /bad magic/);
  const ver = Buffer.from(wire);
  ver[3] = 9;
  assert.throws(() => decodeGossip(ver, secret), /unsupported version 9/);
});

test('authenticated but malformed bodies are rejected precisely', async () => {
  const { createHmac } = await import('node:crypto');
  const forge = (body: string): Buffer => {
    const head = Buffer.from([0x4d, 0x4c, 0x32, 1]);
    const b = Buffer.from(body);
    return Buffer.concat([head, createHmac('sha256', secret).update(Buffer.concat([head, b])).digest(), b]);
  };
  assert.throws(() => decodeGossip(forge('{nope'), secret), /not JSON/);
  assert.throws(() => decodeGossip(forge('{"n":"a","b":"x","s":-1,"t":1,"x":[]}'), secret), /bad sequence/);
  assert.throws(() => decodeGossip(forge('{"n":"a","b":"x","s":1,"t":1,"x":[1]}'), secret), /bad ineligible/);
  assert.throws(() => decodeGossip(forge('{"b":"x","s":1,"t":1,"x":[]}'), secret), GossipError);
});

test('member table: liveness appears on a message and expires after deadAfter', () => {
  const t = new MemberTable('n1', { deadAfterMs: 1000 });
  t.setMembers(['n1', 'n2', 'n3']);
  assert.deepEqual(t.alive(), ['n1']);
  const r = t.accept(msg({ ts: 1000 }), 1000);
  assert.deepEqual(r, { ok: true, changed: true });
  assert.deepEqual(t.alive(), ['n1', 'n2']);
  assert.equal(t.tick(1999), false);
  assert.equal(t.tick(2000), true);
  assert.deepEqual(t.alive(), ['n1']);
});

test('member table: replay protection by sequence and by boot timestamp', () => {
  const t = new MemberTable('n1');
  t.setMembers(['n2']);
  assert.equal(t.accept(msg({ seq: 5, ts: 1000 }), 1000).ok, true);
  const replay = t.accept(msg({ seq: 5, ts: 1000 }), 1100);
  assert.equal(replay.ok, false);
  assert.match(!replay.ok ? replay.reason : '', /replayed/);
  assert.equal(t.accept(msg({ seq: 4, ts: 1200 }), 1200).ok, false);
  assert.equal(t.accept(msg({ seq: 6, ts: 1200 }), 1200).ok, true);
  // a restarted speaker (new boot id, seq restarts) is accepted when its clock moved on
  assert.equal(t.accept(msg({ boot: 'b2', seq: 1, ts: 1300 }), 1300).ok, true);
  // but messages of the previous boot are now stale
  const old = t.accept(msg({ boot: 'b1', seq: 7, ts: 1250 }), 1350);
  assert.equal(old.ok, false);
});

test('member table: skew, unknown and self-claimed senders are refused', () => {
  const t = new MemberTable('n1', { maxSkewMs: 5000 });
  t.setMembers(['n2']);
  assert.match(JSON.stringify(t.accept(msg({ ts: 0 }), 10_000)), /timestamp off/);
  assert.match(JSON.stringify(t.accept(msg({ node: 'n9', ts: 10_000 }), 10_000)), /unknown member n9/);
  assert.match(JSON.stringify(t.accept(msg({ node: 'n1', ts: 10_000 }), 10_000)), /this node/);
});

test('member table: leaving marks dead at once; ineligible lists are recorded', () => {
  const t = new MemberTable('n1');
  t.setMembers(['n2']);
  t.accept(msg({ seq: 1, ts: 1000, ineligible: ['10.0.0.1'] }), 1000);
  assert.deepEqual([...t.ineligibleOf('n2')], ['10.0.0.1']);
  const ch = t.accept(msg({ seq: 2, ts: 1001, ineligible: [] }), 1001);
  assert.deepEqual(ch, { ok: true, changed: true });
  t.accept(msg({ seq: 3, ts: 1002, leaving: true }), 1002);
  assert.deepEqual(t.alive(), ['n1']);
});

test('member table: readiness travels with the heartbeat and is a change', () => {
  const t = new MemberTable('n1');
  t.setMembers(['n2']);
  t.accept(msg({ seq: 1, ts: 1000, ready: false }), 1000);
  assert.equal(t.isReady('n2'), false);
  assert.deepEqual(t.alive(), ['n1', 'n2'], 'alive but not ready');
  assert.deepEqual(t.accept(msg({ seq: 2, ts: 1001, ready: true }), 1001), { ok: true, changed: true });
  assert.equal(t.isReady('n2'), true);
  assert.equal(decodeGossip(encodeGossip(msg({ ready: false }), secret), secret).ready, false);
});

test('handover facts: the announcing list travels and is a change; a member that left stays out of the quorum until it says otherwise', () => {
  const m = msg({ announcing: ['10.0.0.5', '2001:db8::5'] });
  assert.deepEqual(decodeGossip(encodeGossip(m, secret), secret), m);
  // a datagram without "a" (older speakers) decodes to an empty list
  assert.deepEqual(decodeGossip(encodeGossip(msg(), secret), secret).announcing, []);
  const t = new MemberTable('n1');
  t.setMembers(['n2', 'n3']);
  assert.deepEqual(t.accept(msg({ ts: 1000 }), 1000), { ok: true, changed: true });
  assert.deepEqual(t.announcersOf('10.0.0.5'), []);
  assert.deepEqual(t.accept(msg({ seq: 2, ts: 1100, announcing: ['10.0.0.5'] }), 1100), { ok: true, changed: true });
  assert.deepEqual(t.announcersOf('10.0.0.5'), ['n2']);
  assert.deepEqual(t.quorumMembers(), ['n1', 'n2', 'n3']);
  // n2 leaves on purpose: dead at once, not counted for the quorum, also after it went silent
  assert.deepEqual(t.accept(msg({ seq: 3, ts: 1200, leaving: true }), 1200), { ok: true, changed: true });
  assert.deepEqual(t.alive(), ['n1']);
  assert.deepEqual(t.announcersOf('10.0.0.5'), [], 'a member that is not alive announces nothing');
  assert.deepEqual(t.quorumMembers(), ['n1', 'n3']);
  t.tick(10_000);
  assert.deepEqual(t.quorumMembers(), ['n1', 'n3']);
  // back (new boot, not leaving): counted again
  assert.equal(t.accept(msg({ boot: 'b2', seq: 1, ts: 10_000 }), 10_000).ok, true);
  assert.deepEqual(t.quorumMembers(), ['n1', 'n2', 'n3']);
  assert.deepEqual(t.alive(), ['n1', 'n2']);
});

test('handing-over facts: "h" travels; what a leaving member still answers is believed while it is heard; confirmations need "a" from an alive member', () => {
  const m = msg({ announcing: ['10.0.0.5'], handingOver: ['10.0.0.6', '2001:db8::6'] });
  assert.deepEqual(decodeGossip(encodeGossip(m, secret), secret), m);
  assert.equal(decodeGossip(encodeGossip(msg(), secret), secret).handingOver, undefined, 'no "h": nothing handed over');
  const t = new MemberTable('n1', { deadAfterMs: 1000 });
  t.setMembers(['n2', 'n3']);
  assert.deepEqual(t.accept(msg({ ts: 1000, announcing: ['10.0.0.5'], handingOver: ['10.0.0.6'] }), 1000), { ok: true, changed: true });
  assert.deepEqual(t.announcersOf('10.0.0.5'), ['n2']);
  assert.deepEqual(t.announcersOf('10.0.0.6'), [], 'handed over is not owned');
  assert.equal(t.othersAnswer('10.0.0.6'), true);
  assert.equal(t.othersAnswer('10.0.0.7'), false);
  // a new "h" list alone is a change
  assert.deepEqual(t.accept(msg({ seq: 2, ts: 1100, announcing: ['10.0.0.5'] }), 1100), { ok: true, changed: true });
  assert.equal(t.othersAnswer('10.0.0.6'), false);
  // leaving: dead at once, owns nothing, but what it still hands over counts while it is heard
  t.accept(msg({ seq: 3, ts: 1200, leaving: true, handingOver: ['10.0.0.5'] }), 1200);
  assert.deepEqual(t.alive(), ['n1']);
  assert.deepEqual(t.announcersOf('10.0.0.5'), []);
  assert.equal(t.othersAnswer('10.0.0.5'), true);
  assert.equal(t.tick(2100), false);
  assert.equal(t.tick(2200), true, 'no longer heard: a change');
  assert.equal(t.othersAnswer('10.0.0.5'), false);
});
