// BGPSpeaker against an in-process fake peer over real loopback TCP (127.0.0.1 / ::1 only).
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { BGPSpeaker } from '../../../../src/bgp/speaker/index.ts';
import type { NLRI, UpdateMessage } from '../../../../src/bgp/codec/messages.ts';
import { formatIP, parseIP } from '../../../../src/ip/index.ts';
import { FakePeer, isEoR, peerConfig, plan, route } from './fakepeer.ts';
import { FakeClock } from '../../helpers/clock.ts';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(peerOpts: ConstructorParameters<typeof FakePeer>[0] = {}) {
  const peer = new FakePeer(peerOpts);
  await peer.start();
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger });
  cleanups.push(async () => {
    await speaker.stop();
    await peer.close();
  });
  return { peer, speaker };
}

const pfx = (n: NLRI) => `${formatIP({ family: n.family, value: n.network })}/${n.length}`;
const announced = (us: UpdateMessage[]) => us.flatMap((u) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map(pfx)).sort();
const withdrawn = (us: UpdateMessage[]) => us.flatMap((u) => [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])].map(pfx)).sort();

function established(speaker: BGPSpeaker): true | undefined {
  return speaker.status()[0]?.state === 'Established' ? true : undefined;
}

test('Established: full table (packed by attributes) then End-of-RIB; eBGP attributes', async () => {
  const { peer, speaker } = await setup();
  const cfg = peerConfig(peer.port);
  speaker.setPlan([
    plan(cfg, [
      route('192.0.2.1/32'),
      route('192.0.2.2/32'),
      route('198.51.100.0/24', { communities: [0xffffff02], largeCommunities: [[64500, 1, 2]] }),
    ]),
  ]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  const ups = peer.updates();
  const eorIdx = ups.findIndex(isEoR);
  assert.equal(eorIdx, 2, 'two UPDATEs (one per attribute set) before End-of-RIB');
  assert.deepEqual(announced(ups), ['192.0.2.1/32', '192.0.2.2/32', '198.51.100.0/24']);
  const plainU = ups.find((u) => u.nlri.length === 2);
  assert.ok(plainU);
  assert.equal(plainU.attributes.origin, 2, 'ORIGIN INCOMPLETE');
  assert.deepEqual(plainU.attributes.asPath, [{ type: 2, asns: [64500] }]);
  assert.deepEqual(plainU.attributes.nextHop, { family: 4, value: parseIP('127.0.0.1').value });
  assert.equal(plainU.attributes.localPref, undefined, 'no LOCAL_PREF on eBGP');
  assert.equal(plainU.attributes.communities, undefined);
  const commU = ups.find((u) => u.nlri.length === 1);
  assert.deepEqual(commU?.attributes.communities, [0xffffff02]);
  assert.deepEqual(commU?.attributes.largeCommunities, [[64500, 1, 2]]);
  await peer.waitFor('status', () => established(speaker));
  const st = speaker.status()[0];
  assert.ok(st);
  assert.equal(st.peerASN, 64501);
  assert.equal(st.peerRouterId, '10.0.0.254');
  assert.equal(st.holdTime, 90);
  assert.equal(st.localAddress, '127.0.0.1');
  assert.deepEqual([...st.routes].sort(), ['192.0.2.1/32', '192.0.2.2/32', '198.51.100.0/24']);
  assert.equal(st.counters.prefixesAnnounced, 3);
  assert.equal(st.counters.updatesSent, 3);
  assert.equal(st.counters.connectAttempts, 1);
  // our OPEN
  const open = peer.received[0]?.message;
  assert.ok(open && open.type === 1);
  assert.equal(open.bgpId, 0x0a000001);
  assert.equal(open.myAS, 64500);
  assert.ok(open.capabilities.some((c) => c.kind === 'multiprotocol' && c.afi === 1));
  assert.ok(!open.capabilities.some((c) => c.kind === 'multiprotocol' && c.afi === 2), 'IPv4 session offers IPv4 only');
  assert.ok(!open.capabilities.some((c) => c.kind === 'graceful-restart'));
});

test('plan changes send only the difference; withdrawals batched; stop withdraws then Cease 6/2', async () => {
  const { peer, speaker } = await setup();
  const cfg = peerConfig(peer.port);
  const base = [route('192.0.2.1/32'), route('192.0.2.2/32'), route('192.0.2.3/32')];
  speaker.setPlan([plan(cfg, base)]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  peer.clear();
  // add one, remove two, change one's attributes, keep one untouched
  speaker.setPlan([plan(cfg, [route('192.0.2.1/32'), route('192.0.2.3/32', { communities: [65535] }), route('192.0.2.9/32')])]);
  await peer.waitFor('diff', () => withdrawn(peer.updates()).length === 1 && announced(peer.updates()).length === 2);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(withdrawn(peer.updates()), ['192.0.2.2/32']);
  assert.deepEqual(announced(peer.updates()), ['192.0.2.3/32', '192.0.2.9/32']);
  // the same plan again: nothing on the wire
  peer.clear();
  speaker.setPlan([plan(cfg, [route('192.0.2.1/32'), route('192.0.2.3/32', { communities: [65535] }), route('192.0.2.9/32')])]);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(peer.updates().length, 0);
  // a burst of changes in one tick is coalesced
  speaker.setPlan([plan(cfg, [])]);
  speaker.setPlan([plan(cfg, [route('192.0.2.1/32')])]);
  await peer.waitFor('burst', () => withdrawn(peer.updates()).length === 2);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(peer.updates().length, 1, 'one UPDATE carries both withdrawals');
  assert.deepEqual(withdrawn(peer.updates()), ['192.0.2.3/32', '192.0.2.9/32']);
  peer.clear();
  await speaker.stop();
  await peer.waitFor('Cease', () => peer.received.find((r) => r.message.type === 3));
  assert.deepEqual(withdrawn(peer.updates()), ['192.0.2.1/32']);
  const n = peer.received.find((r) => r.message.type === 3)?.message;
  assert.ok(n && n.type === 3 && n.code === 6 && n.subcode === 2);
  const st = speaker.status();
  assert.equal(st.length, 0, 'stopped speaker has no sessions');
});

test('packing: 2000 prefixes with the same attributes fill UPDATEs up to 4096 bytes', async () => {
  const { peer, speaker } = await setup();
  const routes = Array.from({ length: 2000 }, (_, i) => route(`10.${(i >> 8) & 255}.${i & 255}.1/32`));
  speaker.setPlan([plan(peerConfig(peer.port), routes)]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  const frames = peer.updateFrames().filter((f) => !isEoR(f.m));
  assert.equal(announced(frames.map((f) => f.m)).length, 2000);
  for (const f of frames) assert.ok(f.size <= 4096, `UPDATE of ${f.size} bytes`);
  // each /32 takes 5 bytes; about 800 fit in a 4096-byte UPDATE
  assert.equal(frames.length, 3);
  assert.ok(frames[0] && frames[0].size > 4000, 'first UPDATE is full');
});

test('ROUTE-REFRESH from the peer re-sends the whole table', async () => {
  const { peer, speaker } = await setup();
  speaker.setPlan([plan(peerConfig(peer.port), [route('192.0.2.1/32'), route('192.0.2.7/32', { communities: [1] })])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  peer.clear();
  peer.send({ type: 5, afi: 1, safi: 1, subtype: 0 });
  await peer.waitFor('re-sent table', () => announced(peer.updates()).length === 2);
  assert.deepEqual(announced(peer.updates()), ['192.0.2.1/32', '192.0.2.7/32']);
  assert.equal(speaker.status()[0]?.state, 'Established');
});

test('malformed UPDATE from the peer: the codec NOTIFICATION (3/1) is sent and the session reset', async () => {
  const { peer, speaker } = await setup();
  speaker.setPlan([plan(peerConfig(peer.port), [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  // UPDATE whose withdrawn-routes length (0xff00) runs past the message end
  const raw = new Uint8Array(23);
  raw.fill(0xff, 0, 16);
  raw[17] = 23;
  raw[18] = 2;
  raw[19] = 0xff;
  raw[20] = 0x00;
  peer.sendRaw(raw);
  const n = await peer.waitFor('NOTIFICATION', () => {
    const m = peer.received.find((r) => r.message.type === 3)?.message;
    return m && m.type === 3 ? m : undefined;
  });
  assert.deepEqual([n.code, n.subcode], [3, 1]);
  await peer.waitFor('reset', () => (speaker.status()[0]?.state !== 'Established' ? true : undefined));
  const st = speaker.status()[0];
  assert.equal(st?.counters.notificationsSent, 1);
  assert.equal(st?.counters.updatesReceived, 1);
  assert.deepEqual(st?.routes, []);
});

test('received valid UPDATEs are parsed but never imported', async () => {
  const { peer, speaker } = await setup();
  speaker.setPlan([plan(peerConfig(peer.port), [])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  peer.send({
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns: [64501] }], nextHop: { family: 4, value: parseIP('127.0.0.2').value } },
    nlri: [{ family: 4, network: parseIP('203.0.113.0').value, length: 24 }],
  });
  await peer.waitFor('counted', () => (speaker.status()[0]?.counters.updatesReceived === 1 ? true : undefined));
  const st = speaker.status()[0];
  assert.equal(st?.state, 'Established');
  assert.deepEqual(st?.routes, []);
});

test('iBGP: empty AS_PATH, LOCAL_PREF = configured value or 0', async () => {
  const { peer, speaker } = await setup({ asn: 64500 });
  const cfg = peerConfig(peer.port, { peerASN: 64500 });
  speaker.setPlan([plan(cfg, [route('192.0.2.1/32', { localPref: 100, communities: [0xffffff02] }), route('192.0.2.0/24')], false)]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  const ups = peer.updates().filter((u) => !isEoR(u));
  const host = ups.find((u) => u.nlri.some((n) => n.length === 32));
  const agg = ups.find((u) => u.nlri.some((n) => n.length === 24));
  assert.deepEqual(host?.attributes.asPath, []);
  assert.equal(host?.attributes.localPref, 100);
  assert.deepEqual(host?.attributes.communities, [0xffffff02]);
  assert.equal(agg?.attributes.localPref, 0);
});

test('IPv6 session over ::1: MP_REACH with the local IPv6 next hop, MP End-of-RIB', async (t) => {
  const peer = new FakePeer({ host: '::1' });
  try {
    await peer.start();
  } catch (e) {
    if (process.env.CI === 'true') throw e;
    t.skip(`::1 unavailable: ${(e as Error).message}`);
    return;
  }
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger });
  cleanups.push(async () => {
    await speaker.stop();
    await peer.close();
  });
  const cfg = peerConfig(peer.port, { address: parseIP('::1') });
  speaker.setPlan([plan(cfg, [route('2001:db8::1/128'), route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  const ups = peer.updates();
  const u = ups.find((x) => x.attributes.mpReach);
  assert.ok(u?.attributes.mpReach);
  assert.equal(u.attributes.mpReach.afi, 2);
  assert.deepEqual(u.attributes.mpReach.nextHops, [{ family: 6, value: 1n }]);
  assert.deepEqual(announced(ups), ['2001:db8::1/128'], 'the IPv4 route is not sent on an IPv6-only session');
  const open = peer.received[0]?.message;
  assert.ok(open?.type === 1 && open.capabilities.some((c) => c.kind === 'multiprotocol' && c.afi === 2));
  assert.ok(open.type === 1 && !open.capabilities.some((c) => c.kind === 'multiprotocol' && c.afi === 1));
});

test('OPEN with the wrong AS: NOTIFICATION 2/2 and a later retry', async () => {
  const { peer, speaker } = await setup({ asn: 65000 });
  speaker.setPlan([plan(peerConfig(peer.port, { connectTime: 50 }), [])]);
  const n = await peer.waitFor('NOTIFICATION', () => {
    const m = peer.received.find((r) => r.message.type === 3)?.message;
    return m && m.type === 3 ? m : undefined;
  });
  assert.deepEqual([n.code, n.subcode], [2, 2]);
  assert.match(speaker.status()[0]?.lastError ?? '', /peer AS 65000 does not match configured peerASN 64501/);
  await peer.waitFor('retry', () => (peer.connections >= 2 ? true : undefined));
  assert.ok((speaker.status()[0]?.counters.notificationsSent ?? 0) >= 1);
});

test('peer removed from the plan: Cease 6/3; parameter change: Cease 6/6 then a new session', async () => {
  const { peer, speaker } = await setup();
  const cfg = peerConfig(peer.port);
  speaker.setPlan([plan(cfg, [route('192.0.2.1/32')])]);
  await peer.waitFor('established', () => established(speaker));
  speaker.setPlan([plan({ ...cfg, holdTime: 30 }, [route('192.0.2.1/32')])]);
  await peer.waitFor('second session', () => (peer.connections === 2 && established(speaker)) || undefined);
  const ceases = () => peer.received.flatMap((r) => (r.message.type === 3 ? [`${r.message.code}/${r.message.subcode}`] : []));
  assert.deepEqual(ceases(), ['6/6']);
  assert.equal(speaker.status()[0]?.holdTime, 30);
  // routes-only change does not reset
  speaker.setPlan([plan({ ...cfg, holdTime: 30 }, [route('192.0.2.1/32'), route('192.0.2.2/32')])]);
  await peer.waitFor('announce', () => announced(peer.updates()).includes('192.0.2.2/32'));
  assert.equal(peer.connections, 2);
  speaker.setPlan([]);
  await peer.waitFor('6/3', () => ceases().includes('6/3'));
  assert.deepEqual(speaker.status(), []);
});

test('graceful restart: capability advertised; stop({withdraw:false}) closes without NOTIFICATION', async () => {
  const { peer, speaker } = await setup({
    capabilities: [
      { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
      { code: 65, kind: 'four-octet-as', asn: 64501 },
      { code: 64, kind: 'graceful-restart', restartState: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
    ],
  });
  speaker.setPlan([plan(peerConfig(peer.port, { enableGracefulRestart: true }), [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  const open = peer.received[0]?.message;
  assert.ok(open?.type === 1 && open.capabilities.some((c) => c.kind === 'graceful-restart' && c.restartTime === 120));
  peer.clear();
  const sock = peer.sock;
  assert.ok(sock);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await speaker.stop({ withdraw: false });
  await closed;
  assert.equal(peer.received.length, 0, 'no withdrawal, no NOTIFICATION');
});

test('peer closes the connection: session goes down and reconnects', async () => {
  const { peer, speaker } = await setup();
  speaker.setPlan([plan(peerConfig(peer.port, { connectTime: 50 }), [route('192.0.2.1/32')])]);
  await peer.waitFor('established', () => established(speaker));
  peer.sock?.destroy();
  await peer.waitFor('reconnected', () => (peer.connections === 2 && peer.updates().filter(isEoR).length === 2) || undefined);
  const st = speaker.status()[0];
  assert.equal(st?.state, 'Established');
  assert.equal(st?.counters.connectAttempts, 2);
  assert.deepEqual(st?.routes, ['192.0.2.1/32']);
});

test('connection refused: Active with backoff, lastError set, connect attempts counted', async () => {
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger });
  cleanups.push(() => speaker.stop());
  const probe = new FakePeer();
  await probe.start();
  const port = probe.port;
  await probe.close();
  speaker.setPlan([plan(peerConfig(port, { connectTime: 20 }), [])]);
  await probe.waitFor('attempts', () => ((speaker.status()[0]?.counters.connectAttempts ?? 0) >= 3 ? true : undefined));
  const st = speaker.status()[0];
  assert.ok(st && (st.state === 'Active' || st.state === 'Connect'));
  assert.match(st.lastError ?? '', /ECONNREFUSED/);
});

test('injected clock: keepalives every hold/3, uptime, hold timer expiry sends 4/0', async () => {
  const peer = new FakePeer({ holdTime: 9 });
  await peer.start();
  const clock = new FakeClock();
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger, clock });
  cleanups.push(async () => {
    await speaker.stop();
    await peer.close();
  });
  speaker.setPlan([plan(peerConfig(peer.port), [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  assert.equal(speaker.status()[0]?.holdTime, 9);
  peer.clear();
  clock.advance(3000);
  await peer.waitFor('keepalive 1', () => peer.received.some((r) => r.message.type === 4) || undefined);
  clock.advance(3000);
  await peer.waitFor('keepalive 2', () => peer.received.filter((r) => r.message.type === 4).length === 2 || undefined);
  assert.equal(speaker.status()[0]?.uptimeSeconds, 6);
  assert.equal(speaker.status()[0]?.state, 'Established');
  clock.advance(3000); // 9 s without anything from the peer
  const n = await peer.waitFor('hold timer NOTIFICATION', () => {
    const m = peer.received.find((r) => r.message.type === 3)?.message;
    return m && m.type === 3 ? m : undefined;
  });
  assert.deepEqual([n.code, n.subcode], [4, 0]);
  const st = speaker.status()[0];
  assert.equal(st?.state, 'Idle');
  assert.equal(st?.lastError, 'hold timer expired');
  assert.equal(st?.uptimeSeconds, 0);
  // the next attempt waits for the (fake) backoff timer: 1.5..2 s
  assert.equal(peer.connections, 1);
  clock.advance(2000);
  await peer.waitFor('reconnect', () => (peer.connections === 2 ? true : undefined));
});

test('garbage from the peer: NOTIFICATION 1/1 (connection not synchronized), no crash', async () => {
  const { peer, speaker } = await setup();
  speaker.setPlan([plan(peerConfig(peer.port), [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  peer.sendRaw(new Uint8Array(40).fill(0x5a));
  const n = await peer.waitFor('NOTIFICATION', () => {
    const m = peer.received.find((r) => r.message.type === 3)?.message;
    return m && m.type === 3 ? m : undefined;
  });
  assert.deepEqual([n.code, n.subcode], [1, 1]);
  await peer.waitFor('reset', () => (speaker.status()[0]?.state !== 'Established' ? true : undefined));
});

test('injected connector: a throwing or rejecting transport is a connect failure, not a crash', async () => {
  let calls = 0;
  const speaker = new BGPSpeaker({
    nodeName: 'node1',
    routerId: '10.0.0.1',
    logger,
    connect: (o) => {
      calls++;
      assert.equal(o.host, '127.0.0.1');
      assert.equal(o.ttl, 1, 'direct eBGP: TTL 1');
      if (calls === 1) throw new Error('boom');
      return Promise.reject(new Error('no route'));
    },
  });
  cleanups.push(() => speaker.stop());
  speaker.setPlan([plan(peerConfig(179, { connectTime: 10 }), [])]);
  const probe = new FakePeer();
  await probe.waitFor('two attempts', () => (calls >= 2 && speaker.status()[0]?.lastError === 'no route' ? true : undefined));
  assert.ok(speaker.status()[0]?.state === 'Active' || speaker.status()[0]?.state === 'Connect');
  // multihop / iBGP sessions use TTL 255
  const ttls: number[] = [];
  const s2 = new BGPSpeaker({
    nodeName: 'node1',
    routerId: '10.0.0.1',
    logger,
    connect: (o) => {
      ttls.push(o.ttl ?? 0);
      return Promise.reject(new Error('x'));
    },
  });
  cleanups.push(() => s2.stop());
  s2.setPlan([plan(peerConfig(179, { name: 'a', ebgpMultiHop: true }), []), plan(peerConfig(179, { name: 'b', peerASN: 64500 }), [], false)]);
  await probe.waitFor('ttls', () => (ttls.length >= 2 ? true : undefined));
  assert.deepEqual(ttls.slice(0, 2), [255, 255]);
});

test('dualStackAddressFamily: both families offered; IPv6 over the IPv4 session uses the node IPv6 address', async () => {
  const { peer, speaker } = await setup();
  const cfg = peerConfig(peer.port, { dualStackAddressFamily: true });
  speaker.setPlan([{ ...plan(cfg, [route('192.0.2.1/32'), route('2001:db8:5::1/128')]), nodeAddresses: [parseIP('2001:db8::10')] }]);
  await peer.waitFor('two End-of-RIBs', () => (peer.updates().filter(isEoR).length === 2 ? true : undefined));
  const open = peer.received[0]?.message;
  assert.ok(open?.type === 1);
  assert.deepEqual(
    open.capabilities.flatMap((c) => (c.kind === 'multiprotocol' ? [c.afi] : [])),
    [1, 2],
  );
  const ups = peer.updates();
  assert.deepEqual(announced(ups), ['192.0.2.1/32', '2001:db8:5::1/128']);
  const v6 = ups.find((u) => u.attributes.mpReach);
  assert.deepEqual(v6?.attributes.mpReach?.nextHops, [{ family: 6, value: parseIP('2001:db8::10').value }]);
  const v4 = ups.find((u) => u.nlri.length > 0);
  assert.deepEqual(v4?.attributes.nextHop, { family: 4, value: parseIP('127.0.0.1').value });
});

test('a router refusing our OPEN (NOTIFICATION 2/3, e.g. a router-ID clash): lastError keeps the reason after the close, logged at WARN once', async () => {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) });
  const peer = new FakePeer({ rejectOpen: { code: 2, subcode: 3 } });
  await peer.start();
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger: log });
  cleanups.push(async () => {
    await speaker.stop();
    await peer.close();
  });
  speaker.setPlan([plan(peerConfig(peer.port, { connectTime: 100 }), [])]);
  // refused at least twice: each time the router closes the connection right after its NOTIFICATION
  await peer.waitFor('two refused connections', () => (peer.connections >= 2 && peer.conns.every((c) => c.destroyed) ? true : undefined));
  const st = speaker.status()[0];
  assert.notEqual(st?.state, 'Established');
  assert.match(st?.lastError ?? '', /^peer sent NOTIFICATION 2\/3 /, 'not "connection closed by peer"');
  const warned = lines.filter((l) => l.level === 40 && l.msg.startsWith('peer sent NOTIFICATION 2/3'));
  assert.equal(warned.length, 1, 'logged at WARN, once while it does not change');
});
