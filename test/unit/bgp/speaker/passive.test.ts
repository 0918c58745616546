// Passive sessions: the speaker listens, accepts only the configured peer address, a second
// connection replaces the first. A small BGP client over loopback plays the router.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { pino } from 'pino';
import { BGPSpeaker } from '../../../../src/bgp/speaker/index.ts';
import { MessageFramer, decodeMessage, encodeMessage } from '../../../../src/bgp/codec/index.ts';
import type { BGPMessage } from '../../../../src/bgp/codec/messages.ts';
import { isEoR, peerConfig, plan, route } from './fakepeer.ts';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** An active BGP "router": connects, answers the OPEN, records messages. */
class Client {
  got: BGPMessage[] = [];
  closed = false;
  sock: net.Socket;
  constructor(port: number, localAddress = '127.0.0.1') {
    this.sock = net.connect({ port, host: '127.0.0.1', localAddress });
    const framer = new MessageFramer();
    this.sock.on('error', () => undefined);
    this.sock.on('close', () => (this.closed = true));
    this.sock.on('data', (c: Buffer) => {
      framer.push(c);
      for (let f = framer.next(); f; f = framer.next()) {
        if (f.kind === 'error') return;
        const r = decodeMessage(f.type, f.body, { fourOctetAS: true });
        if (r.kind !== 'ok') return;
        this.got.push(r.message);
        if (r.message.type === 1) {
          const open: BGPMessage = {
            type: 1,
            version: 4,
            myAS: 64501,
            holdTime: 90,
            bgpId: 0x0a0000fe,
            capabilities: [
              { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
              { code: 65, kind: 'four-octet-as', asn: 64501 },
            ],
          };
          this.sock.write(encodeMessage(open, { fourOctetAS: true }));
          this.sock.write(encodeMessage({ type: 4 }, { fourOctetAS: true }));
        }
      }
    });
    cleanups.push(() => {
      this.sock.destroy();
    });
  }
  async until<T>(what: string, f: () => T | undefined | false, ms = 20000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = f();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

test('passive peer: no connect out, listens, accepts the configured address, announces on Established', async () => {
  const port = await freePort();
  let connects = 0;
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger, connect: () => (connects++, Promise.reject(new Error('no'))) });
  cleanups.push(() => speaker.stop());
  speaker.setPlan([plan(peerConfig(port, { passive: true }), [route('192.0.2.1/32')])]);
  assert.equal(speaker.status()[0]?.state, 'Active');
  // the listener comes up asynchronously
  let c = new Client(port);
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!c.closed) break;
    c = new Client(port);
  }
  await c.until('End-of-RIB', () => c.got.some((m) => m.type === 2 && isEoR(m)));
  assert.ok(c.got.some((m) => m.type === 2 && m.nlri.length === 1));
  assert.equal(speaker.status()[0]?.state, 'Established');
  assert.equal(speaker.status()[0]?.localAddress, '127.0.0.1');
  assert.equal(connects, 0, 'a passive session never connects out');

  // an address that is not a configured peer is refused
  const stranger = new Client(port, '127.0.0.2');
  await stranger.until('refused', () => stranger.closed);
  assert.deepEqual(stranger.got, []);
  assert.equal(speaker.status()[0]?.state, 'Established', 'the session is untouched');

  // the router reconnects (it restarted): the new connection replaces the old one
  const again = new Client(port);
  await again.until('End-of-RIB on the new connection', () => again.got.some((m) => m.type === 2 && isEoR(m)));
  await c.until('old connection closed', () => c.closed);
  assert.equal(speaker.status()[0]?.state, 'Established');
});
