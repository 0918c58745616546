// An unnumbered session (BGPPeer `interface`) in the BGPSpeaker, with the interface facts
// injected (what router discovery reports) and the connection going to an in-process fake peer
// over loopback: waits for the router's link-local address, connects to fe80::…%eth0, announces
// IPv4 routes with the IPv6 next hop only when RFC 8950 was negotiated.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { pino } from 'pino';
import { BGPSpeaker } from '../../../../src/bgp/speaker/index.ts';
import type { ConnectOptions } from '../../../../src/bgp/speaker/index.ts';
import type { LinkInfo } from '../../../../src/bgp/unnumbered/discovery.ts';
import { parseIP } from '../../../../src/ip/index.ts';
import { FakePeer, isEoR, peerConfig, plan, route } from './fakepeer.ts';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const OUR_LL = parseIP('fe80::2');
const THEIR_LL = parseIP('fe80::1');
const GLOBAL = parseIP('2001:db8:1::7');
const ENHE = { code: 5 as const, kind: 'extended-nexthop' as const, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] };

async function setup(enhe: boolean) {
  const peer = new FakePeer({
    capabilities: [
      { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
      { code: 1, kind: 'multiprotocol', afi: 2, safi: 1 },
      { code: 65, kind: 'four-octet-as', asn: 64501 },
      ...(enhe ? [ENHE] : []),
    ],
  });
  await peer.start();
  const info: LinkInfo = { interface: 'eth0', local: OUR_LL, globals: [], advertisementsSent: 1, advertisementsReceived: 0, invalidReceived: 0 };
  const listeners: ((i: LinkInfo) => void)[] = [];
  const connects: ConnectOptions[] = [];
  const speaker = new BGPSpeaker({
    nodeName: 'node1',
    routerId: '10.0.0.1',
    logger,
    watchLink: (ifname, fn) => {
      assert.equal(ifname, 'eth0');
      listeners.push(fn);
      fn(info);
      return () => listeners.splice(listeners.indexOf(fn), 1);
    },
    // the fake peer listens on loopback: the connection goes there, the options are recorded
    connect: (o) => {
      connects.push(o);
      return new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: peer.port }, () => resolve(s));
        s.once('error', reject);
      });
    },
  });
  cleanups.push(async () => {
    await speaker.stop();
    await peer.close();
  });
  const notify = (): void => {
    for (const l of [...listeners]) l(info);
  };
  return { peer, speaker, info, notify, connects, listeners };
}

const cfg = () => peerConfig(179, { address: undefined, interface: 'eth0' });

test('waits for the router\'s link-local address, then connects to fe80::1%eth0 (TTL 1) and sends IPv4 routes with our link-local next hop (RFC 8950)', async () => {
  const { peer, speaker, info, notify, connects } = await setup(true);
  speaker.setPlan([plan(cfg(), [route('192.0.2.1/32'), route('2001:db8:5::1/128')])]);
  const waiting = speaker.status()[0];
  assert.equal(waiting?.state, 'Idle');
  assert.match(waiting?.lastError ?? '', /waiting for a Router Advertisement from the router/);
  assert.equal(waiting?.peerAddress, 'eth0');
  assert.equal(connects.length, 0);

  info.peer = THEIR_LL;
  info.advertisementsReceived = 1;
  notify();
  await peer.waitFor('two End-of-RIBs', () => (peer.updates().filter(isEoR).length === 2 ? true : undefined));
  assert.deepEqual(
    connects.map((c) => [c.host, c.family, c.ttl]),
    [['fe80::1%eth0', 6, 1]],
  );
  const open = peer.received[0]?.message;
  assert.ok(open?.type === 1);
  assert.ok(open.capabilities.some((c) => c.kind === 'extended-nexthop' && c.entries.some((e) => e.afi === 1 && e.safi === 1 && e.nextHopAfi === 2)));
  assert.deepEqual(
    open.capabilities.flatMap((c) => (c.kind === 'multiprotocol' ? [c.afi] : [])),
    [1, 2],
  );
  const ups = peer.updates().filter((u) => !isEoR(u));
  const v4 = ups.find((u) => u.attributes.mpReach?.afi === 1);
  assert.deepEqual(v4?.attributes.mpReach?.nextHops, [{ family: 6, value: OUR_LL.value }]);
  assert.deepEqual(v4?.nlri, []);
  assert.equal(v4?.attributes.nextHop, undefined);
  const v6 = ups.find((u) => u.attributes.mpReach?.afi === 2);
  assert.deepEqual(v6?.attributes.mpReach?.nextHops, [{ family: 6, value: OUR_LL.value }]);
  const st = speaker.status()[0];
  assert.equal(st?.state, 'Established');
  assert.deepEqual(st?.unnumbered, {
    interface: 'eth0',
    peerLinkLocal: 'fe80::1',
    localLinkLocal: 'fe80::2',
    nextHops: { ipv4: ['fe80::2'], ipv6: ['fe80::2'] },
    extendedNextHop: true,
    routerAdvertisementsSent: 1,
    routerAdvertisementsReceived: 1,
  });

  // a global address appears on the interface: the routes are re-sent with global + link-local
  peer.clear();
  info.globals = [GLOBAL];
  notify();
  await peer.waitFor('re-announcement', () => (peer.updates().filter((u) => u.attributes.mpReach).length === 2 ? true : undefined));
  for (const u of peer.updates()) {
    assert.deepEqual(u.attributes.mpReach?.nextHops, [
      { family: 6, value: GLOBAL.value },
      { family: 6, value: OUR_LL.value },
    ]);
  }
});

test('a router without the extended next hop capability gets the IPv6 routes only', async () => {
  const { peer, speaker, info, notify } = await setup(false);
  info.peer = THEIR_LL;
  speaker.setPlan([plan(cfg(), [route('192.0.2.1/32'), route('2001:db8:5::1/128')])]);
  notify();
  await peer.waitFor('two End-of-RIBs', () => (peer.updates().filter(isEoR).length === 2 ? true : undefined));
  const ups = peer.updates().filter((u) => !isEoR(u));
  assert.equal(ups.length, 1);
  assert.equal(ups[0]?.attributes.mpReach?.afi, 2);
  const st = speaker.status()[0];
  assert.deepEqual(st?.routes, ['2001:db8:5::1/128']);
  assert.equal(st?.unnumbered?.extendedNextHop, false);
  assert.deepEqual(st?.unnumbered?.nextHops, { ipv6: ['fe80::2'] });
});
