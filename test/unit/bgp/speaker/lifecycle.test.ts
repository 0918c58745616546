// Graceful restart across speaker processes and drain (RFC 8326), against the in-process fake
// peer over real loopback TCP. The FRR/BIRD proofs live in test/integration/bgp/lifecycle-*.test.ts.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { BGPSpeaker } from '../../../../src/bgp/speaker/index.ts';
import { pendingRestarts, parseRestartMarker, sessionPhase } from '../../../../src/bgp/speaker/lifecycle.ts';
import { buildRib, GRACEFUL_SHUTDOWN } from '../../../../src/bgp/speaker/rib.ts';
import type { Capability, UpdateMessage } from '../../../../src/bgp/codec/messages.ts';
import { parseIP } from '../../../../src/ip/index.ts';
import { FakePeer, isEoR, peerConfig, plan, route } from './fakepeer.ts';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function grCaps(n: boolean): Capability[] {
  return [
    { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
    { code: 2, kind: 'route-refresh' },
    { code: 65, kind: 'four-octet-as', asn: 64501 },
    { code: 64, kind: 'graceful-restart', restartState: false, notification: n, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
  ];
}

async function fakePeer(n: boolean): Promise<FakePeer> {
  const peer = new FakePeer({ capabilities: grCaps(n) });
  await peer.start();
  cleanups.push(() => peer.close());
  return peer;
}

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-gr-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function newSpeaker(marker?: string): BGPSpeaker {
  const s = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger, ...(marker ? { restartMarker: marker } : {}) });
  cleanups.push(() => s.stop());
  return s;
}

const grOpen = (peer: FakePeer, i: number) => {
  const opens = peer.received.filter((r) => r.message.type === 1).map((r) => r.message);
  const o = opens[i];
  assert.ok(o && o.type === 1, `OPEN #${i}`);
  const c = o.capabilities.find((x) => x.kind === 'graceful-restart');
  assert.ok(c && c.kind === 'graceful-restart', 'graceful-restart capability');
  return c;
};

test('graceful restart across processes: no withdraw on stop, marker, R bit + full table + End-of-RIB on the next start', async () => {
  const dir = tmp();
  const marker = join(dir, 'restart.json');
  const peer = await fakePeer(false);
  const cfg = peerConfig(peer.port, { enableGracefulRestart: true, gracefulRestartTime: 300 });
  const s1 = newSpeaker(marker);
  s1.setPlan([plan(cfg, [route('192.0.2.1/32'), route('192.0.2.2/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  const cap = grOpen(peer, 0);
  assert.equal(cap.restartState, false, 'a fresh start sets no Restart State bit');
  assert.equal(cap.restartTime, 300);
  assert.deepEqual(cap.families, [{ afi: 1, safi: 1, forwardingState: true }]);
  assert.equal(s1.status()[0]?.gracefulRestart?.restartTime, 300);

  const before = peer.received.length;
  await s1.stop({ withdraw: false });
  await peer.waitFor('connection closed', () => peer.sock?.destroyed || peer.sock?.readableEnded || undefined);
  const after = peer.received.slice(before).map((r) => r.message);
  assert.deepEqual(after, [], 'no UPDATE withdraw and no NOTIFICATION (peer has no N bit): a plain TCP close');
  assert.deepEqual(s1.stopResult, { keptAtPeer: ['p1'], closed: [] });
  const m = parseRestartMarker(readFileSync(marker, 'utf8')).marker;
  assert.ok(m);
  assert.equal(m.sessions.length, 1);
  assert.equal(m.sessions[0]?.restartTime, 300);

  // the next process: one Service is gone meanwhile
  peer.clear();
  const s2 = newSpeaker(marker);
  s2.setPlan([plan(cfg, [route('192.0.2.1/32')])]);
  assert.equal(s2.status()[0]?.phase, 'restarting');
  assert.ok(s2.status()[0]?.staleAtPeerUntil);
  await peer.waitFor('End-of-RIB after restart', () => peer.updates().some(isEoR));
  assert.equal(grOpen(peer, 0).restartState, true, 'first OPEN after a graceful restart: Restart State bit');
  const ups = peer.updates();
  assert.deepEqual(ups.flatMap((u: UpdateMessage) => u.withdrawn), [], 'nothing withdrawn explicitly: End-of-RIB drops the rest');
  assert.equal(ups.filter((u) => u.nlri.length > 0).flatMap((u) => u.nlri).length, 1);
  assert.ok(isEoR(ups[ups.length - 1] as UpdateMessage), 'End-of-RIB last');
  await peer.waitFor('phase established', () => s2.status()[0]?.phase === 'established' || undefined);
  assert.equal(s2.status()[0]?.counters.gracefulRestarts, 1);
  assert.equal(s2.status()[0]?.gracefulRestart?.restarted, true);
  assert.equal(existsSync(marker), false, 'marker removed once every session re-synchronised');

  // a reconnect inside the same process is not a restart: no R bit
  const n = peer.received.filter((r) => r.message.type === 1).length;
  peer.sock?.destroy();
  await peer.waitFor('reconnected', () => (peer.received.filter((r) => r.message.type === 1).length > n ? true : undefined), 10000);
  assert.equal(grOpen(peer, n).restartState, false);
});

test('RFC 8538: with the N bit the graceful stop sends Cease 6/2 (keeps GR); the real stop withdraws and sends Hard Reset', async () => {
  const peer = await fakePeer(true);
  const cfg = peerConfig(peer.port, { enableGracefulRestart: true });
  const s1 = newSpeaker();
  s1.setPlan([plan(cfg, [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  assert.equal(s1.status()[0]?.gracefulRestart?.notification, true);
  peer.clear();
  await s1.stop({ withdraw: false });
  await peer.waitFor('NOTIFICATION', () => peer.received.find((r) => r.message.type === 3));
  assert.deepEqual(
    peer.received.map((r) => r.message),
    [{ type: 3, code: 6, subcode: 2, data: new Uint8Array(0) }],
  );

  const s2 = newSpeaker();
  s2.setPlan([plan(cfg, [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  peer.clear();
  await s2.stop({ withdraw: true });
  await peer.waitFor('NOTIFICATION', () => peer.received.find((r) => r.message.type === 3));
  const msgs = peer.received.map((r) => r.message);
  assert.equal(msgs[0]?.type, 2);
  assert.equal(msgs[0]?.type === 2 ? msgs[0].withdrawn.length : 0, 1, 'withdrawn first');
  assert.deepEqual(msgs[1], { type: 3, code: 6, subcode: 9, data: new Uint8Array([6, 2]) });
  assert.deepEqual(s2.stopResult, { keptAtPeer: [], closed: ['p1'] });
});

test('stop without withdraw on a peer without enableGracefulRestart still withdraws', async () => {
  const peer = await fakePeer(false);
  const s = newSpeaker();
  s.setPlan([plan(peerConfig(peer.port), [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  peer.clear();
  await s.stop({ withdraw: false });
  await peer.waitFor('NOTIFICATION', () => peer.received.find((r) => r.message.type === 3));
  const msgs = peer.received.map((r) => r.message);
  assert.equal(msgs[0]?.type === 2 ? msgs[0].withdrawn.length : 0, 1);
  assert.deepEqual(msgs[1], { type: 3, code: 6, subcode: 2, data: new Uint8Array(0) });
});

test('connection lost with graceful restart negotiated: phase stale-at-peer until re-established', async () => {
  const peer = await fakePeer(false);
  const s = newSpeaker();
  s.setPlan([plan(peerConfig(peer.port, { enableGracefulRestart: true, connectTime: 300 }), [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  await peer.close();
  await peer.waitFor('stale-at-peer', () => s.status()[0]?.phase === 'stale-at-peer' || undefined);
  assert.ok(s.status()[0]?.staleAtPeerUntil);
});

test('drain: routes re-sent with 65535:0 and LOCAL_PREF 0 (iBGP), withdrawn after the period; resume announces again', async () => {
  const peer = new FakePeer({ asn: 64500 });
  await peer.start();
  cleanups.push(() => peer.close());
  const s = newSpeaker();
  const cfg = peerConfig(peer.port, { peerASN: 64500 });
  s.setPlan([plan(cfg, [route('192.0.2.1/32', { localPref: 200, communities: [0x00010002] })], false)]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  peer.clear();
  const t0 = Date.now();
  const done = s.drain(300);
  await peer.waitFor('GRACEFUL_SHUTDOWN', () => peer.updates().find((u) => u.nlri.length > 0));
  const u = peer.updates()[0];
  assert.deepEqual(u?.attributes.communities, [0x00010002, GRACEFUL_SHUTDOWN]);
  assert.equal(u?.attributes.localPref, 0);
  assert.equal(s.status()[0]?.phase, 'draining');
  assert.ok(s.status()[0]?.drainUntil);
  assert.equal(s.status()[0]?.counters.drains, 1);
  assert.equal(peer.updates().some((x) => x.withdrawn.length > 0), false, 'not withdrawn yet');
  await done;
  assert.ok(Date.now() - t0 >= 290, 'withdrawn only after the drain period');
  await peer.waitFor('withdraw', () => peer.updates().find((x) => x.withdrawn.length > 0));
  assert.equal(s.status()[0]?.phase, 'drained');
  assert.deepEqual(s.status()[0]?.routes, []);
  // a Service added while drained is not announced
  s.setPlan([plan(cfg, [route('192.0.2.1/32', { localPref: 200 }), route('192.0.2.9/32')], false)]);
  peer.clear();
  s.resume();
  await peer.waitFor('announced again', () => (peer.updates().flatMap((x) => x.nlri).length === 2 ? true : undefined));
  assert.ok(peer.updates().every((x) => !(x.attributes.communities ?? []).includes(GRACEFUL_SHUTDOWN)));
  assert.equal(s.status()[0]?.phase, 'established');
});

test('pure helpers: pendingRestarts windows, marker parsing, phases, GS attributes on eBGP', () => {
  const m = { version: 1 as const, stoppedAt: 1_000_000, sessions: [{ key: 'a', restartTime: 120 }, { key: 'b', restartTime: 1 }] };
  assert.deepEqual([...pendingRestarts(m, 1_000_500)], [['a', 1_120_000], ['b', 1_001_000]]);
  assert.deepEqual([...pendingRestarts(m, 1_002_000)], [['a', 1_120_000]]);
  assert.deepEqual([...pendingRestarts(m, 2_000_000)], []);
  assert.match(parseRestartMarker('{').error ?? '', /not JSON/);
  assert.match(parseRestartMarker('{"version":2}').error ?? '', /version 1/);
  assert.deepEqual(parseRestartMarker(JSON.stringify({ ...m, sessions: [{ key: 'x', restartTime: 99999 }, { key: 'y', restartTime: 5 }] })).marker?.sessions, [
    { key: 'y', restartTime: 5 },
  ]);
  const base = { state: 'Idle' as const, mode: 'normal' as const, restarting: false, staleUntil: undefined, now: 10 };
  assert.equal(sessionPhase(base), 'down');
  assert.equal(sessionPhase({ ...base, staleUntil: 20 }), 'stale-at-peer');
  assert.equal(sessionPhase({ ...base, staleUntil: 20, restarting: true }), 'restarting');
  assert.equal(sessionPhase({ ...base, staleUntil: 5 }), 'down', 'restart time over: the peer dropped the routes');
  assert.equal(sessionPhase({ ...base, state: 'Established' }), 'established');
  assert.equal(sessionPhase({ ...base, state: 'Established', mode: 'draining' }), 'draining');
  const { rib } = buildRib([route('192.0.2.1/32', { communities: [GRACEFUL_SHUTDOWN] })], {
    ebgp: true,
    localASN: 64500,
    localAddress: { 4: parseIP('10.0.0.1') },
    families: [{ afi: 1, safi: 1 }],
    gracefulShutdown: true,
  });
  const a = [...rib.values()][0]?.attributes;
  assert.deepEqual(a?.communities, [GRACEFUL_SHUTDOWN], 'not added twice');
  assert.equal(a?.localPref, undefined, 'no LOCAL_PREF on eBGP');
});

test('an unreadable marker is ignored with a warning, not a crash', () => {
  const dir = tmp();
  const marker = join(dir, 'm.json');
  writeFileSync(marker, 'garbage');
  const s = newSpeaker(marker);
  s.setPlan([plan(peerConfig(1, { enableGracefulRestart: true }), [])]);
  assert.equal(s.status()[0]?.phase, 'down');
});
