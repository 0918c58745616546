// Update groups: sessions with the same outbound policy share one table and one encoding, against
// in-process fake peers over real loopback TCP; a session with another policy gets its own.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { BGPSpeaker, routerIdFromName } from '../../../../src/bgp/speaker/index.ts';
import { UpdateGroups, EMPTY_RIB, policyKey } from '../../../../src/bgp/speaker/groups.ts';
import type { RibContext } from '../../../../src/bgp/speaker/rib.ts';
import { parseIP } from '../../../../src/ip/index.ts';
import { FakePeer, isEoR, peerConfig, plan, route } from './fakepeer.ts';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function peers(asns: number[]): Promise<FakePeer[]> {
  const out: FakePeer[] = [];
  for (const asn of asns) {
    const p = new FakePeer({ asn });
    await p.start();
    cleanups.push(() => p.close());
    out.push(p);
  }
  return out;
}

const updateBytes = (p: FakePeer): string[] =>
  p.received.filter((r) => r.message.type === 2 && !isEoR(r.message)).map((r) => Buffer.from(r.raw).toString('hex'));

test('three eBGP sessions with one policy share a table and the bytes; an iBGP session gets its own', async () => {
  const [a, b, c, d] = await peers([64501, 64501, 64501, 64500]);
  assert.ok(a && b && c && d);
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger });
  cleanups.push(() => speaker.stop());
  const routes = [route('192.0.2.1/32', { communities: [65535 * 65536 + 65282] }), route('192.0.2.2/32'), route('198.51.100.0/24')];
  const cfg = (p: FakePeer, name: string, peerASN = 64501) => peerConfig(p.port, { name, peerASN });
  speaker.setPlan([
    plan(cfg(a, 'a'), routes),
    plan(cfg(b, 'b'), routes),
    plan(cfg(c, 'c'), routes),
    // iBGP (peer AS = our AS): LOCAL_PREF, no AS prepended — another policy
    plan(cfg(d, 'd', 64500), routes, false),
  ]);
  for (const p of [a, b, c, d]) await p.waitFor('End-of-RIB', () => p.updates().some(isEoR) || undefined);
  const [ua, ub, uc, ud] = [a, b, c, d].map(updateBytes);
  assert.ok(ua && ua.length > 0);
  assert.deepEqual(ub, ua, 'same bytes to b');
  assert.deepEqual(uc, ua, 'same bytes to c');
  assert.notDeepEqual(ud, ua, 'the iBGP session is encoded for its own policy');
  const first = speaker.updateGroupStats();
  assert.equal(first.tablesBuilt, 2, 'one table per policy');
  assert.equal(first.movesEncoded, 2, 'one encoding per policy');
  assert.equal(first.movesShared, 2);

  // a change: one new route list for everybody -> one more table and one more encoding per policy
  const more = [...routes, route('192.0.2.3/32')];
  speaker.setPlan([plan(cfg(a, 'a'), more), plan(cfg(b, 'b'), more), plan(cfg(c, 'c'), more), plan(cfg(d, 'd', 64500), more, false)]);
  for (const p of [a, b, c, d]) {
    await p.waitFor('192.0.2.3/32', () => p.updates().some((u) => u.nlri.some((n) => n.length === 32 && n.network === parseIP('192.0.2.3').value)) || undefined);
  }
  const [ua2, ub2, uc2] = [a, b, c].map(updateBytes);
  assert.deepEqual(ub2, ua2);
  assert.deepEqual(uc2, ua2);
  const second = speaker.updateGroupStats();
  assert.equal(second.tablesBuilt - first.tablesBuilt, 2);
  assert.equal(second.movesEncoded - first.movesEncoded, 2);
  assert.equal(second.movesShared - first.movesShared, 2);
});

test('a session at another table (behind) gets its own move; equal moves are encoded once', () => {
  const g = new UpdateGroups();
  const ctx: RibContext = { ebgp: true, localASN: 64500, localAddress: { 4: parseIP('192.0.2.100') }, families: [{ afi: 1, safi: 1 }] };
  const r1 = [route('192.0.2.1/32')];
  const r2 = [route('192.0.2.1/32'), route('192.0.2.2/32')];
  const t1 = g.table(r1, ctx).rib;
  assert.equal(g.table(r1, { ...ctx, localAddress: { 4: parseIP('192.0.2.100') } }).rib, t1, 'equal policy, same table object');
  assert.notEqual(g.table(r1, { ...ctx, localAddress: { 4: parseIP('192.0.2.101') } }).rib, t1, 'another next hop, another table');
  const t2 = g.table(r2, ctx).rib;
  let encodes = 0;
  const enc = () => {
    encodes++;
    return [new Uint8Array([encodes])];
  };
  const m1 = g.move(t1, t2, 'as4', enc);
  const m2 = g.move(t1, t2, 'as4', enc);
  assert.equal(m2.messages, m1.messages, 'the second session reuses the bytes');
  assert.equal(m1.announced, 1);
  const behind = g.move(EMPTY_RIB, t2, 'as4', enc);
  assert.equal(behind.announced, 2, 'a session that was down gets the whole table');
  g.move(t1, t2, 'as2', enc);
  assert.equal(encodes, 3, 'encoded once per (from, to, encoding)');
  assert.deepEqual(g.move(t2, t2, 'as4', enc).messages, [], 'no move, no message');
  assert.notEqual(policyKey({ ...ctx, gracefulShutdown: true }), policyKey(ctx));
});

test('router ID: BGPPeer routerID, else the node IPv4 (not loopback), else derived from the node name (IPv6-only), shown in status', async () => {
  const [a] = await peers([64501]);
  assert.ok(a);
  const v6only = new BGPSpeaker({ nodeName: 'worker-7', logger });
  cleanups.push(() => v6only.stop());
  const p6 = { ...plan(peerConfig(a.port, { name: 'a' }), []), node: 'worker-7', nodeAddresses: [parseIP('2001:db8::7')] };
  v6only.setPlan([p6]);
  await a.waitFor('OPEN', () => a.received.find((r) => r.message.type === 1) ?? undefined);
  const open = a.received.find((r) => r.message.type === 1)?.message;
  assert.ok(open && open.type === 1);
  assert.equal(open.bgpId, routerIdFromName('worker-7'));
  assert.notEqual(open.bgpId, 0x7f000001, 'never 127.0.0.1');
  assert.notEqual(routerIdFromName('worker-7'), routerIdFromName('worker-8'), 'different per node');
  const st = v6only.status()[0];
  assert.equal(st?.routerIdSource, 'node-name');
  assert.equal(st?.routerId, [24, 16, 8, 0].map((s) => (routerIdFromName('worker-7') >>> s) & 255).join('.'));

  const withV4 = new BGPSpeaker({ nodeName: 'worker-8', logger });
  cleanups.push(() => withV4.stop());
  withV4.setPlan([{ ...plan(peerConfig(a.port, { name: 'b' }), []), node: 'worker-8', nodeAddresses: [parseIP('2001:db8::8'), parseIP('192.0.2.8')] }]);
  assert.deepEqual([withV4.status()[0]?.routerId, withV4.status()[0]?.routerIdSource], ['192.0.2.8', 'node-ipv4']);
  // a loopback node address (standalone's default 127.0.0.1) is shared by every node: never the router ID
  const loop = new BGPSpeaker({ nodeName: 'worker-10', logger });
  cleanups.push(() => loop.stop());
  loop.setPlan([{ ...plan(peerConfig(a.port, { name: 'd' }), []), node: 'worker-10', nodeAddresses: [parseIP('127.0.0.1')] }]);
  assert.equal(loop.status()[0]?.routerIdSource, 'node-name');
  assert.notEqual(loop.status()[0]?.routerId, '127.0.0.1');
  const pinned = new BGPSpeaker({ nodeName: 'worker-9', logger });
  cleanups.push(() => pinned.stop());
  pinned.setPlan([{ ...plan(peerConfig(a.port, { name: 'c', routerID: parseIP('10.9.9.9') }), []), node: 'worker-9' }]);
  assert.deepEqual([pinned.status()[0]?.routerId, pinned.status()[0]?.routerIdSource], ['10.9.9.9', 'bgppeer']);
});

test('a state change does not list the routes (10 sessions x a full table would format every prefix per event); status() does', async () => {
  const [a, b] = await peers([64501, 64501]);
  assert.ok(a && b);
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger });
  cleanups.push(() => speaker.stop());
  const events: object[] = [];
  speaker.on('state', (s: object) => events.push(s));
  const routes = [route('192.0.2.1/32'), route('192.0.2.2/32')];
  speaker.setPlan([plan(peerConfig(a.port, { name: 'a' }), routes), plan(peerConfig(b.port, { name: 'b' }), routes)]);
  for (const p of [a, b]) await p.waitFor('End-of-RIB', () => p.updates().some(isEoR) || undefined);
  await new Promise((r) => setImmediate(r));
  assert.ok(events.length >= 4, 'Connect/OpenSent/OpenConfirm/Established per session');
  for (const e of events) assert.equal('routes' in e, false, 'no route list in a state event');
  assert.ok(events.some((e) => 'state' in e && e.state === 'Established'));
  const st = speaker.status();
  assert.deepEqual(st.map((s) => s.routes), [['192.0.2.1/32', '192.0.2.2/32'], ['192.0.2.1/32', '192.0.2.2/32']]);
  assert.equal(st[0]?.routes, st[1]?.routes, 'one route list for the sessions of one update group');
  assert.equal(speaker.status()[0]?.routes, st[0]?.routes, 'made once per table, not per /status');
});
