// The speaker's receive side against an in-process fake peer over loopback: routes through the
// receive policy into the Adj-RIB-In, counts in status, removal on session down, and the prefix
// limit closing the session with Cease 6/1 (RFC 4486).
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { BGPSpeaker } from '../../../../src/bgp/speaker/index.ts';
import type { UpdateMessage } from '../../../../src/bgp/codec/messages.ts';
import { parseIP, parsePrefix } from '../../../../src/ip/index.ts';
import type { EffectiveReceive } from '../../../../src/config/receive.ts';
import type { RouteChange } from '../../../../src/routes/ribin.ts';
import { FakePeer, peerConfig, plan } from './fakepeer.ts';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function update(prefixes: string[], withdrawn: string[] = []): UpdateMessage {
  const n = (s: string) => {
    const p = parsePrefix(s);
    return { family: p.family, network: p.network, length: p.length };
  };
  return {
    type: 2,
    withdrawn: withdrawn.map(n),
    nlri: prefixes.map(n),
    attributes: { origin: 0, asPath: [{ type: 2, asns: [64501] }], nextHop: { family: 4, value: parseIP('127.0.0.1').value } },
  };
}

async function setup(policy: EffectiveReceive | undefined) {
  const peer = new FakePeer();
  await peer.start();
  const table = new Map<string, string>();
  const seen: RouteChange[][] = [];
  const speaker = new BGPSpeaker({
    nodeName: 'node1',
    routerId: '10.0.0.1',
    logger,
    onReceived: (session, changes) => {
      seen.push(changes);
      for (const c of changes) {
        if (c.path) table.set(`${session} ${c.key}`, 'x');
        else table.delete(`${session} ${c.key}`);
      }
    },
  });
  cleanups.push(async () => {
    await speaker.stop();
    await peer.close();
  });
  speaker.setPlan([{ ...plan(peerConfig(peer.port), []), ...(policy ? { receive: policy } : {}) }]);
  await peer.waitFor('Established', () => speaker.status()[0]?.state === 'Established');
  return { peer, speaker, table, seen };
}

test('receive: the policy filters, status counts received/accepted, session down removes all', async () => {
  const { peer, speaker, table } = await setup({ mode: 'filtered', prefixes: [{ prefix: parsePrefix('10.0.0.0/8'), minLength: 8, maxLength: 24 }], prefixLimit: 10000 });
  peer.send(update(['10.1.0.0/16', '10.2.0.0/24', '192.0.2.0/24']));
  await peer.waitFor('2 accepted', () => speaker.status()[0]?.acceptedPrefixes === 2);
  const st = speaker.status()[0];
  assert.equal(st?.receivedPrefixes, 3);
  assert.equal(st?.receiveMode, 'filtered');
  assert.equal(table.size, 2);
  peer.send(update([], ['10.1.0.0/16']));
  await peer.waitFor('1 accepted', () => speaker.status()[0]?.acceptedPrefixes === 1);
  assert.equal(table.size, 1);
  peer.sock?.destroy();
  await peer.waitFor('table emptied on session down', () => table.size === 0);
});

test('receive: a peer without receive policy imports nothing', async () => {
  const { peer, speaker, seen } = await setup(undefined);
  peer.send(update(['10.1.0.0/16']));
  peer.send({ type: 4 });
  await peer.waitFor('UPDATE counted', () => (speaker.status()[0]?.counters.updatesReceived ?? 0) >= 1);
  const st = speaker.status()[0];
  assert.equal(st?.state, 'Established');
  assert.equal(st?.acceptedPrefixes, undefined, 'no counts without a policy');
  assert.equal(st?.receiveMode, undefined);
  assert.equal(seen.length, 0);
});

test('receive: more than the prefix limit closes the session with Cease 6/1 and drops the routes', async () => {
  const { peer, speaker, table } = await setup({ mode: 'all', prefixes: [], prefixLimit: 2 });
  peer.send(update(['10.1.0.0/16', '10.2.0.0/16']));
  await peer.waitFor('2 accepted', () => table.size === 2);
  peer.send(update(['10.3.0.0/16']));
  const n = await peer.waitFor('NOTIFICATION', () => peer.received.map((r) => r.message).find((m) => m.type === 3));
  assert.ok(n.type === 3);
  assert.deepEqual([n.code, n.subcode], [6, 1]);
  assert.deepEqual([...n.data], [0, 1, 1, 0, 0, 0, 2], 'AFI 1, SAFI 1, upper bound 2');
  assert.equal(table.size, 0);
  await peer.waitFor('status', () => speaker.status()[0]?.state !== 'Established');
  assert.match(speaker.status()[0]?.lastError ?? '', /prefix limit 2/);
});
