import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionFSM, backoffDelay, OPEN_HOLD_TIME_MS } from '../../../../src/bgp/session/fsm.ts';
import { AS_TRANS, IPV4_UNICAST, IPV6_UNICAST, buildOpen, checkOpen, collisionSurvivor } from '../../../../src/bgp/session/open.ts';
import type { SessionAction, SessionConfig } from '../../../../src/bgp/session/types.ts';
import type { Capability, NotificationMessage, OpenMessage } from '../../../../src/bgp/codec/messages.ts';

const ROUTER_ID = 0x0a000001; // 10.0.0.1

function cfg(over: Partial<SessionConfig> = {}): SessionConfig {
  return {
    localASN: 64500,
    peerASN: 64501,
    routerId: ROUTER_ID,
    holdTime: 90,
    families: [IPV4_UNICAST],
    connectRetryBaseMs: 1000,
    connectRetryMaxMs: 60000,
    connectTimeoutMs: 5000,
    random: () => 1 - Number.EPSILON,
    ...over,
  };
}

function peerOpen(over: Partial<OpenMessage> = {}, caps?: Capability[]): OpenMessage {
  return {
    type: 1,
    version: 4,
    myAS: 64501,
    holdTime: 90,
    bgpId: 0x0a000002,
    capabilities: caps ?? [
      { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
      { code: 65, kind: 'four-octet-as', asn: 64501 },
      { code: 2, kind: 'route-refresh' },
    ],
    ...over,
  };
}

function sent(actions: SessionAction[]) {
  return actions.flatMap((a) => (a.type === 'Send' ? [a.message] : []));
}
function notif(actions: SessionAction[]): NotificationMessage | undefined {
  const n = sent(actions).find((m) => m.type === 3);
  return n && n.type === 3 ? n : undefined;
}
function timer(actions: SessionAction[], name: string): number | undefined {
  let ms: number | undefined;
  for (const a of actions) if (a.type === 'StartTimer' && a.timer === name) ms = a.ms;
  return ms;
}

/** Drive a fresh FSM to OpenSent and return it. */
function toOpenSent(c = cfg()) {
  const f = new SessionFSM(c);
  f.handle({ type: 'ManualStart' });
  f.handle({ type: 'TcpConnectionConfirmed' });
  return f;
}
function toEstablished(c = cfg(), open = peerOpen()) {
  const f = toOpenSent(c);
  f.handle({ type: 'MessageReceived', message: open });
  f.handle({ type: 'MessageReceived', message: { type: 4 } });
  assert.equal(f.state, 'Established');
  return f;
}

function grCap(o: { restarting?: boolean; n?: boolean } = {}): Capability {
  return { code: 64, kind: 'graceful-restart', restartState: o.restarting ?? false, notification: o.n ?? true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] };
}

/** Established with graceful restart on both sides (peer N bit as given). */
function toEstablishedGR(o: { peerN?: boolean; restarting?: boolean; ourN?: boolean } = {}) {
  const c = cfg({ gracefulRestart: { restartTime: 120, restarting: o.restarting ?? false, ...(o.ourN === undefined ? {} : { notification: o.ourN }) } });
  const caps = [...(peerOpen().capabilities ?? []), grCap({ n: o.peerN ?? true })];
  return toEstablished(c, peerOpen({}, caps));
}

test('start: Idle -> Connect with connect action and connect timeout', () => {
  const f = new SessionFSM(cfg());
  const a = f.handle({ type: 'ManualStart' });
  assert.equal(f.state, 'Connect');
  assert.ok(a.some((x) => x.type === 'Connect'));
  assert.equal(timer(a, 'connectRetry'), 5000);
  assert.deepEqual(f.handle({ type: 'ManualStart' }), [], 'second start is a no-op');
});

test('TCP up: sends OPEN, large hold timer, OpenSent', () => {
  const f = new SessionFSM(cfg());
  f.handle({ type: 'ManualStart' });
  const a = f.handle({ type: 'TcpConnectionConfirmed' });
  assert.equal(f.state, 'OpenSent');
  const open = sent(a)[0];
  assert.ok(open && open.type === 1);
  assert.equal(open.version, 4);
  assert.equal(open.myAS, 64500);
  assert.equal(open.holdTime, 90);
  assert.equal(open.bgpId, ROUTER_ID);
  assert.equal(timer(a, 'hold'), OPEN_HOLD_TIME_MS);
  assert.ok(a.some((x) => x.type === 'StopTimer' && x.timer === 'connectRetry'));
});

test('full handshake: OPEN -> KEEPALIVE -> OpenConfirm -> Established with negotiation', () => {
  const f = toOpenSent();
  const a = f.handle({ type: 'MessageReceived', message: peerOpen({ holdTime: 30 }) });
  assert.equal(f.state, 'OpenConfirm');
  assert.deepEqual(sent(a), [{ type: 4 }]);
  assert.equal(timer(a, 'hold'), 30_000, 'hold = min(90, 30)');
  assert.equal(timer(a, 'keepalive'), 10_000, 'keepalive = hold/3');
  const b = f.handle({ type: 'MessageReceived', message: { type: 4 } });
  assert.equal(f.state, 'Established');
  const est = b.find((x) => x.type === 'Established');
  assert.ok(est && est.type === 'Established');
  assert.equal(est.negotiated.holdTime, 30);
  assert.equal(est.negotiated.peerASN, 64501);
  assert.equal(est.negotiated.fourOctetAS, true);
  assert.equal(est.negotiated.peerRouteRefresh, true);
  assert.deepEqual(est.negotiated.families, [IPV4_UNICAST]);
  assert.equal(timer(b, 'hold'), 30_000);
});

test('configured keepalive is used; clamped when >= negotiated hold', () => {
  const f = toOpenSent(cfg({ holdTime: 90, keepaliveTime: 20 }));
  const a = f.handle({ type: 'MessageReceived', message: peerOpen() });
  assert.equal(timer(a, 'keepalive'), 20_000);
  const g = toOpenSent(cfg({ holdTime: 90, keepaliveTime: 30 }));
  const b = g.handle({ type: 'MessageReceived', message: peerOpen({ holdTime: 9 }) });
  assert.equal(timer(b, 'hold'), 9_000);
  assert.equal(timer(b, 'keepalive'), 3_000);
});

test('hold time 0 on either side: no hold timer, no keepalives', () => {
  const f = toOpenSent();
  const a = f.handle({ type: 'MessageReceived', message: peerOpen({ holdTime: 0 }) });
  assert.equal(timer(a, 'hold'), undefined);
  assert.equal(timer(a, 'keepalive'), undefined);
  assert.ok(a.some((x) => x.type === 'StopTimer' && x.timer === 'hold'));
  const b = f.handle({ type: 'MessageReceived', message: { type: 4 } });
  assert.equal(timer(b, 'hold'), undefined);
  assert.equal(f.negotiated?.keepaliveTime, 0);
  assert.deepEqual(f.handle({ type: 'TimerExpired', timer: 'keepalive' }), []);
  const g = toOpenSent(cfg({ holdTime: 0 }));
  g.handle({ type: 'MessageReceived', message: peerOpen({ holdTime: 90 }) });
  assert.equal(g.negotiated?.holdTime, 0);
});

test('keepalive timer: sends KEEPALIVE and re-arms', () => {
  const f = toEstablished();
  const a = f.handle({ type: 'TimerExpired', timer: 'keepalive' });
  assert.deepEqual(sent(a), [{ type: 4 }]);
  assert.equal(timer(a, 'keepalive'), 30_000);
});

test('KEEPALIVE/UPDATE/ROUTE-REFRESH in Established restart the hold timer', () => {
  const f = toEstablished();
  assert.equal(timer(f.handle({ type: 'MessageReceived', message: { type: 4 } }), 'hold'), 90_000);
  const upd = { type: 2 as const, withdrawn: [], attributes: {}, nlri: [] };
  const a = f.handle({ type: 'MessageReceived', message: upd });
  assert.equal(timer(a, 'hold'), 90_000);
  assert.ok(a.some((x) => x.type === 'UpdateReceived'));
  const b = f.handle({ type: 'MessageReceived', message: { type: 5, afi: 1, safi: 1, subtype: 0 } });
  assert.deepEqual(b.find((x) => x.type === 'RouteRefreshRequested'), { type: 'RouteRefreshRequested', afi: 1, safi: 1 });
  assert.equal(f.state, 'Established');
});

for (const st of ['OpenSent', 'OpenConfirm', 'Established'] as const) {
  test(`hold timer expiry in ${st}: NOTIFICATION 4/0, Idle, retry scheduled`, () => {
    const f = toOpenSent();
    if (st !== 'OpenSent') f.handle({ type: 'MessageReceived', message: peerOpen() });
    if (st === 'Established') f.handle({ type: 'MessageReceived', message: { type: 4 } });
    assert.equal(f.state, st);
    const a = f.handle({ type: 'TimerExpired', timer: 'hold' });
    const n = notif(a);
    assert.equal(n?.code, 4);
    assert.equal(n?.subcode, 0);
    assert.ok(a.some((x) => x.type === 'Disconnect'));
    assert.equal(f.state, 'Idle');
    assert.equal(f.lastError, 'hold timer expired');
    assert.equal(timer(a, 'connectRetry'), 1000);
    assert.equal(a.some((x) => x.type === 'Down'), st === 'Established');
    // the retry timer reconnects
    const b = f.handle({ type: 'TimerExpired', timer: 'connectRetry' });
    assert.equal(f.state, 'Connect');
    assert.ok(b.some((x) => x.type === 'Connect'));
  });
}

test('FSM errors: unexpected messages give 5/1, 5/2, 5/3', () => {
  const f = toOpenSent();
  const n1 = notif(f.handle({ type: 'MessageReceived', message: { type: 4 } }));
  assert.deepEqual([n1?.code, n1?.subcode, f.state], [5, 1, 'Idle']);
  const h = toOpenSent();
  h.handle({ type: 'MessageReceived', message: peerOpen() });
  const n2 = notif(h.handle({ type: 'MessageReceived', message: peerOpen() }));
  assert.deepEqual([n2?.code, n2?.subcode], [5, 2]);
  const e = toEstablished();
  const n3 = notif(e.handle({ type: 'MessageReceived', message: peerOpen() }));
  assert.deepEqual([n3?.code, n3?.subcode], [5, 3]);
  assert.equal(e.state, 'Idle');
});

test('NOTIFICATION from peer: close without answering', () => {
  const f = toEstablished();
  const a = f.handle({ type: 'MessageReceived', message: { type: 3, code: 6, subcode: 2, data: new Uint8Array() } });
  assert.equal(notif(a), undefined);
  assert.equal(f.state, 'Idle');
  assert.ok(a.some((x) => x.type === 'Down'));
  assert.match(f.lastError ?? '', /6\/2/);
});

test('decode error: the codec-chosen NOTIFICATION is sent', () => {
  const f = toEstablished();
  const n: NotificationMessage = { type: 3, code: 3, subcode: 1, data: new Uint8Array() };
  const a = f.handle({ type: 'DecodeError', notification: n, reason: 'malformed attribute list' });
  assert.deepEqual(notif(a), n);
  assert.equal(f.state, 'Idle');
});

test('connect failure: Active with backoff; retry timer -> Connect; connect timeout', () => {
  const f = new SessionFSM(cfg());
  f.handle({ type: 'ManualStart' });
  const a = f.handle({ type: 'TcpConnectionFails', reason: 'ECONNREFUSED' });
  assert.equal(f.state, 'Active');
  assert.equal(timer(a, 'connectRetry'), 1000);
  f.handle({ type: 'TimerExpired', timer: 'connectRetry' });
  assert.equal(f.state, 'Connect');
  const b = f.handle({ type: 'TimerExpired', timer: 'connectRetry' }); // connect timeout
  assert.ok(b.some((x) => x.type === 'Disconnect'));
  assert.equal(f.state, 'Active');
  assert.equal(timer(b, 'connectRetry'), 2000);
  assert.match(f.lastError ?? '', /connect timeout/);
  f.handle({ type: 'TimerExpired', timer: 'connectRetry' });
  assert.equal(timer(f.handle({ type: 'TcpConnectionFails', reason: 'x' }), 'connectRetry'), 4000);
  assert.equal(f.failedAttempts, 3);
  // Established resets the backoff
  f.handle({ type: 'TimerExpired', timer: 'connectRetry' });
  f.handle({ type: 'TcpConnectionConfirmed' });
  f.handle({ type: 'MessageReceived', message: peerOpen() });
  f.handle({ type: 'MessageReceived', message: { type: 4 } });
  assert.equal(f.failedAttempts, 0);
});

test('backoff bounds: exponential, capped, jitter shortens by at most 25%', () => {
  const c = { connectRetryBaseMs: 1000, connectRetryMaxMs: 60000 };
  assert.equal(backoffDelay(c, 0, 1), 1000);
  assert.equal(backoffDelay(c, 0, 0), 750);
  assert.equal(backoffDelay(c, 3, 1), 8000);
  assert.equal(backoffDelay(c, 6, 1), 60000);
  assert.equal(backoffDelay(c, 100, 1), 60000);
  assert.equal(backoffDelay(c, 100, 0), 45000);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(c, i % 12, Math.random());
    assert.ok(d >= 750 && d <= 60000, `delay ${d}`);
  }
  // max below base: base wins (the configured interval is never shortened below 75%)
  assert.equal(backoffDelay({ connectRetryBaseMs: 5000, connectRetryMaxMs: 100 }, 4, 1), 5000);
});

test('ManualStop: Cease 6/2 by default, 6/3 on request, no retry afterwards', () => {
  const f = toEstablished();
  const a = f.handle({ type: 'ManualStop' });
  assert.deepEqual([notif(a)?.code, notif(a)?.subcode], [6, 2]);
  assert.equal(f.state, 'Idle');
  assert.equal(timer(a, 'connectRetry'), undefined);
  assert.deepEqual(f.handle({ type: 'TimerExpired', timer: 'connectRetry' }), []);
  const g = toEstablished();
  const b = g.handle({ type: 'ManualStop', subcode: 3 });
  assert.deepEqual([notif(b)?.code, notif(b)?.subcode], [6, 3]);
  const h = new SessionFSM(cfg());
  h.handle({ type: 'ManualStart' });
  const c = h.handle({ type: 'ManualStop' });
  assert.equal(notif(c), undefined, 'no NOTIFICATION without a BGP connection');
  assert.ok(c.some((x) => x.type === 'Disconnect'));
  assert.equal(h.state, 'Idle');
});

test('TCP loss in OpenSent/Established: Idle and reconnect later', () => {
  const f = toEstablished();
  const a = f.handle({ type: 'TcpConnectionFails', reason: 'ECONNRESET' });
  assert.equal(f.state, 'Idle');
  assert.ok(a.some((x) => x.type === 'Down'));
  assert.equal(timer(a, 'connectRetry'), 1000);
});

test('OPEN checks: version, peer AS, dynamic ASN, BGP identifier, hold time', () => {
  const check = (o: OpenMessage, c = cfg()) => {
    const f = toOpenSent(c);
    const n = notif(f.handle({ type: 'MessageReceived', message: o }));
    return n ? [n.code, n.subcode] : f.state;
  };
  assert.deepEqual(check(peerOpen({ version: 3 })), [2, 1]);
  const v = checkOpen(cfg(), peerOpen({ version: 3 }));
  assert.ok(!v.ok && v.notification.data.length === 2 && v.notification.data[1] === 4);
  assert.deepEqual(check(peerOpen({ myAS: 64999 }, [])), [2, 2]);
  assert.deepEqual(check(peerOpen({}, [{ code: 65, kind: 'four-octet-as', asn: 64999 }])), [2, 2]);
  assert.deepEqual(check(peerOpen({ myAS: 0 }, [])), [2, 2]);
  assert.deepEqual(check(peerOpen({ bgpId: 0 })), [2, 3]);
  assert.deepEqual(check(peerOpen({ bgpId: ROUTER_ID })), [2, 3]);
  assert.deepEqual(check(peerOpen({ holdTime: 1 })), [2, 6]);
  assert.deepEqual(check(peerOpen({ holdTime: 2 })), [2, 6]);
  assert.equal(check(peerOpen({ holdTime: 3 })), 'OpenConfirm');
  // dynamicASN
  const dynInt = cfg({ peerASN: 0, dynamicASN: 'internal' });
  assert.deepEqual(check(peerOpen(), dynInt), [2, 2]);
  assert.equal(check(peerOpen({ myAS: 64500 }, []), dynInt), 'OpenConfirm');
  const dynExt = cfg({ peerASN: 0, dynamicASN: 'external' });
  assert.equal(check(peerOpen(), dynExt), 'OpenConfirm');
  assert.deepEqual(check(peerOpen({ myAS: 64500 }, []), dynExt), [2, 2]);
});

test('4-octet AS: AS_TRANS in the 2-octet field, real AS from the capability', () => {
  const open = buildOpen(cfg({ localASN: 4200000001 }));
  assert.equal(open.myAS, AS_TRANS);
  assert.ok(open.capabilities.some((c) => c.kind === 'four-octet-as' && c.asn === 4200000001));
  const r = checkOpen(cfg({ peerASN: 4200000002 }), peerOpen({ myAS: AS_TRANS }, [{ code: 65, kind: 'four-octet-as', asn: 4200000002 }]));
  assert.ok(r.ok && r.negotiated.peerASN === 4200000002 && r.negotiated.fourOctetAS);
  const old = checkOpen(cfg(), peerOpen({}, []));
  assert.ok(old.ok && !old.negotiated.fourOctetAS && !old.negotiated.peerRouteRefresh);
});

test('capabilities: MP families, route refresh, graceful restart only when enabled', () => {
  const plain = buildOpen(cfg());
  assert.deepEqual(
    plain.capabilities.map((c) => c.kind),
    ['multiprotocol', 'route-refresh', 'four-octet-as'],
  );
  const gr = buildOpen(cfg({ families: [IPV4_UNICAST, IPV6_UNICAST], gracefulRestart: { restartTime: 120 } }));
  const g = gr.capabilities.find((c) => c.kind === 'graceful-restart');
  assert.ok(g && g.kind === 'graceful-restart' && g.restartTime === 120 && g.families.length === 2);
  assert.equal(gr.capabilities.filter((c) => c.kind === 'multiprotocol').length, 2);
  // negotiated families = intersection; no MP capability from the peer = IPv4 unicast only
  const both = cfg({ families: [IPV4_UNICAST, IPV6_UNICAST] });
  const r1 = checkOpen(both, peerOpen({}, [{ code: 1, kind: 'multiprotocol', afi: 2, safi: 1 }]));
  assert.ok(r1.ok);
  assert.deepEqual(r1.negotiated.families, [IPV6_UNICAST]);
  const r2 = checkOpen(both, peerOpen({}, []));
  assert.ok(r2.ok);
  assert.deepEqual(r2.negotiated.families, [IPV4_UNICAST]);
  const r3 = checkOpen(cfg({ gracefulRestart: { restartTime: 120 } }), peerOpen({}, [{ code: 64, kind: 'graceful-restart', restartState: false, restartTime: 90, families: [] }]));
  assert.ok(r3.ok && r3.negotiated.gracefulRestart);
  const r4 = checkOpen(cfg(), peerOpen({}, [{ code: 64, kind: 'graceful-restart', restartState: false, restartTime: 90, families: [] }]));
  assert.ok(r4.ok && !r4.negotiated.gracefulRestart);
});

test('extended next hop (RFC 8950): offered only when configured, negotiated only when both offer IPv4 over IPv6', () => {
  assert.ok(!buildOpen(cfg()).capabilities.some((c) => c.kind === 'extended-nexthop'));
  const enhe = cfg({ families: [IPV4_UNICAST, IPV6_UNICAST], extendedNextHop: true });
  assert.deepEqual(
    buildOpen(enhe).capabilities.find((c) => c.kind === 'extended-nexthop'),
    { code: 5, kind: 'extended-nexthop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
  );
  const theirs = (entries: { afi: number; safi: number; nextHopAfi: number }[]) => peerOpen({}, [{ code: 5, kind: 'extended-nexthop', entries }]);
  const yes = checkOpen(enhe, theirs([{ afi: 1, safi: 128, nextHopAfi: 2 }, { afi: 1, safi: 1, nextHopAfi: 2 }]));
  assert.ok(yes.ok && yes.negotiated.extendedNextHop);
  const otherFamily = checkOpen(enhe, theirs([{ afi: 1, safi: 128, nextHopAfi: 2 }]));
  assert.ok(otherFamily.ok && !otherFamily.negotiated.extendedNextHop);
  const none = checkOpen(enhe, peerOpen({}, []));
  assert.ok(none.ok && !none.negotiated.extendedNextHop);
  const notOffered = checkOpen(cfg(), theirs([{ afi: 1, safi: 1, nextHopAfi: 2 }]));
  assert.ok(notOffered.ok && !notOffered.negotiated.extendedNextHop);
});

test('collision: higher BGP identifier keeps its connection; dump sends Cease 6/7', () => {
  assert.equal(collisionSurvivor(0x0a000002, 0x0a000001), 'locally-initiated');
  assert.equal(collisionSurvivor(0x0a000001, 0x0a000002), 'remotely-initiated');
  assert.equal(collisionSurvivor(0xff000001, 0x0a000002), 'locally-initiated', 'compared unsigned');
  const f = toOpenSent();
  f.handle({ type: 'MessageReceived', message: peerOpen() });
  const a = f.handle({ type: 'OpenCollisionDump' });
  assert.deepEqual([notif(a)?.code, notif(a)?.subcode], [6, 7]);
  assert.equal(f.state, 'Idle');
});

test('unexpected TCP connection outside Connect/Active is refused', () => {
  const f = toEstablished();
  const a = f.handle({ type: 'TcpConnectionConfirmed' });
  assert.ok(a.some((x) => x.type === 'Disconnect'));
  assert.equal(f.state, 'Established');
});

test('every state change is reported once, in order', () => {
  const f = new SessionFSM(cfg());
  const seen: string[] = [];
  const rec = (a: SessionAction[]) => a.forEach((x) => x.type === 'StateChanged' && seen.push(`${x.from}>${x.to}`));
  rec(f.handle({ type: 'ManualStart' }));
  rec(f.handle({ type: 'TcpConnectionConfirmed' }));
  rec(f.handle({ type: 'MessageReceived', message: peerOpen() }));
  rec(f.handle({ type: 'MessageReceived', message: { type: 4 } }));
  rec(f.handle({ type: 'ManualStop' }));
  assert.deepEqual(seen, ['Idle>Connect', 'Connect>OpenSent', 'OpenSent>OpenConfirm', 'OpenConfirm>Established', 'Established>Idle']);
});

test('ManualStop graceful without graceful restart negotiated: Cease as usual', () => {
  const f = toEstablished();
  const a = f.handle({ type: 'ManualStop', graceful: true });
  assert.deepEqual(notif(a), { type: 3, code: 6, subcode: 2, data: new Uint8Array(0) });
});

test('ManualStop graceful (graceful restart, no N bit): no NOTIFICATION, connection closed', () => {
  const f = toEstablishedGR({ peerN: false });
  assert.equal(f.negotiated?.gracefulRestart, true);
  assert.equal(f.negotiated?.gracefulNotification, false);
  const a = f.handle({ type: 'ManualStop', graceful: true });
  assert.equal(notif(a), undefined);
  assert.ok(a.some((x) => x.type === 'Disconnect'));
  assert.equal(f.state, 'Idle');
});

test('Active: a TCP connection (e.g. accepted) proceeds to OpenSent; stop in Active/Idle cancels the retry', () => {
  const f = new SessionFSM(cfg());
  f.handle({ type: 'ManualStart' });
  f.handle({ type: 'TcpConnectionFails', reason: 'EHOSTUNREACH' });
  assert.equal(f.state, 'Active');
  const a = f.handle({ type: 'TcpConnectionConfirmed' });
  assert.equal(f.state, 'OpenSent');
  assert.ok(sent(a)[0]?.type === 1);
  const g = new SessionFSM(cfg());
  g.handle({ type: 'ManualStart' });
  g.handle({ type: 'TcpConnectionFails', reason: 'x' });
  const b = g.handle({ type: 'ManualStop' });
  assert.equal(g.state, 'Idle');
  assert.ok(b.some((x) => x.type === 'StopTimer' && x.timer === 'connectRetry'));
  assert.deepEqual(g.handle({ type: 'TimerExpired', timer: 'connectRetry' }), [], 'stopped: no reconnect');
  // restart after stop works and resets the backoff
  const c = g.handle({ type: 'ManualStart' });
  assert.equal(g.state, 'Connect');
  assert.ok(c.some((x) => x.type === 'Connect'));
  assert.equal(g.failedAttempts, 0);
  // events that make no sense in Idle are ignored
  const h = new SessionFSM(cfg());
  assert.deepEqual(h.handle({ type: 'MessageReceived', message: { type: 4 } }), []);
  assert.deepEqual(h.handle({ type: 'TcpConnectionFails', reason: 'x' }), []);
  assert.deepEqual(h.handle({ type: 'TimerExpired', timer: 'hold' }), []);
});

test('graceful restart OPEN: restart time, R bit only when restarting, F bit per family, N bit', () => {
  const plain = buildOpen(cfg({ families: [IPV4_UNICAST, IPV6_UNICAST], gracefulRestart: { restartTime: 300 } }));
  const gr = plain.capabilities.find((c) => c.kind === 'graceful-restart');
  assert.deepEqual(gr, {
    code: 64,
    kind: 'graceful-restart',
    restartState: false,
    notification: true,
    restartTime: 300,
    families: [
      { afi: 1, safi: 1, forwardingState: true },
      { afi: 2, safi: 1, forwardingState: true },
    ],
  });
  const r = buildOpen(cfg({ gracefulRestart: { restartTime: 120, restarting: true } })).capabilities.find((c) => c.kind === 'graceful-restart');
  assert.ok(r && r.kind === 'graceful-restart' && r.restartState === true);
  const big = buildOpen(cfg({ gracefulRestart: { restartTime: 99999 } })).capabilities.find((c) => c.kind === 'graceful-restart');
  assert.ok(big && big.kind === 'graceful-restart' && big.restartTime === 4095, 'restart time is a 12-bit field');
});

test('negotiation: N bit only when both sides set it; peer R bit reported; no GR when we do not offer it', () => {
  assert.equal(toEstablishedGR({ peerN: true }).negotiated?.gracefulNotification, true);
  assert.equal(toEstablishedGR({ peerN: false }).negotiated?.gracefulNotification, false);
  assert.equal(toEstablishedGR({ peerN: true, ourN: false }).negotiated?.gracefulNotification, false);
  const c = checkOpen(cfg(), peerOpen({}, [...(peerOpen().capabilities ?? []), grCap({ restarting: true })]));
  assert.ok(c.ok);
  assert.equal(c.negotiated.gracefulRestart, false);
  assert.equal(c.negotiated.gracefulNotification, false);
  const d = checkOpen(cfg({ gracefulRestart: { restartTime: 120, restarting: true } }), peerOpen({}, [...(peerOpen().capabilities ?? []), grCap({ restarting: true })]));
  assert.ok(d.ok);
  assert.equal(d.negotiated.peerRestarted, true);
  assert.equal(d.negotiated.restarted, true);
});

test('RFC 8538: graceful stop with N sends a plain Cease (keeps GR); a real stop sends Hard Reset 6/9 wrapping 6/2', () => {
  const g = toEstablishedGR({ peerN: true });
  assert.deepEqual(notif(g.handle({ type: 'ManualStop', graceful: true })), { type: 3, code: 6, subcode: 2, data: new Uint8Array(0) });
  const h = toEstablishedGR({ peerN: true });
  assert.deepEqual(notif(h.handle({ type: 'ManualStop', subcode: 3 })), { type: 3, code: 6, subcode: 9, data: new Uint8Array([6, 3]) });
  const k = toEstablishedGR({ peerN: false });
  assert.deepEqual(notif(k.handle({ type: 'ManualStop' })), { type: 3, code: 6, subcode: 2, data: new Uint8Array(0) }, 'no N: plain Cease');
});

test('restartComplete: the next OPEN has no Restart State bit', () => {
  const f = toEstablishedGR({ restarting: true });
  assert.equal(f.negotiated?.restarted, true);
  f.restartComplete();
  f.handle({ type: 'TcpConnectionFails', reason: 'x' });
  f.handle({ type: 'TimerExpired', timer: 'connectRetry' });
  const a = f.handle({ type: 'TcpConnectionConfirmed' });
  const open = sent(a).find((m) => m.type === 1);
  const cap = open && open.type === 1 ? open.capabilities.find((c) => c.kind === 'graceful-restart') : undefined;
  assert.ok(cap && cap.kind === 'graceful-restart');
  assert.equal(cap.restartState, false);
});

