// The UDP shell over loopback with the real metallb_udp addon: hostile datagrams sent with
// a real TTL are dropped and counted by reason, and the session keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BfdManager } from '../../../src/bfd/manager.ts';
import { BfdState, encodeControl, decodeControl, type ControlPacket } from '../../../src/bfd/codec.ts';
import { tryLoadUdpAddon, UdpAddonError, type NativeUdpSocket } from '../../../src/native/udp.ts';
import { SOURCE_PORT_MIN } from '../../../src/bfd/mux.ts';

const addon = tryLoadUdpAddon();
const quiet = { info: () => {}, warn: () => {}, debug: () => {} };

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('hostile packets over loopback are dropped and counted; the session comes Up', { skip: addon instanceof UdpAddonError ? addon.message : false }, async () => {
  if (addon instanceof UdpAddonError) return;
  // The "peer" is a plain addon socket on a free port Q that the manager sends to; the manager
  // listens on another free port P (found by opening and closing a socket).
  const got: { data: Buffer; fromPort: number; ttl: number }[] = [];
  const peer: NativeUdpSocket = new addon.UdpSocket(4, '127.0.0.2', 0, 255, '', (data, _f, fromPort, ttl) => got.push({ data, fromPort, ttl }));
  const probe = new addon.UdpSocket(4, '127.0.0.1', 0, 255, '', null);
  const port = probe.localPort;
  probe.close();
  const m = new BfdManager({ log: quiet, addon, ports: { singleHop: port, multiHop: 0 }, peerPorts: { singleHop: peer.localPort, multiHop: 0 } });
  try {
    m.sync([{ key: 'k', peerAddress: '127.0.0.2', localAddress: '127.0.0.1', multihop: false, minimumTtl: 254, timers: { transmitIntervalMs: 50, receiveIntervalMs: 50, detectMultiplier: 3, passive: false } }]);
    await until('first packet from the manager', () => got.length > 0);
    const first = got[0]!;
    assert.equal(first.ttl, 255, 'sent with TTL 255');
    assert.ok(first.fromPort >= SOURCE_PORT_MIN, `source port ${first.fromPort} in 49152-65535`);
    const ours = decodeControl(first.data);
    assert.equal(ours.state, BfdState.Down);

    // Hostile packets to the manager's receive port.
    const liar64: NativeUdpSocket = new addon.UdpSocket(4, '127.0.0.2', 0, 64, '', null);
    const good255: NativeUdpSocket = new addon.UdpSocket(4, '127.0.0.2', 0, 255, '', null);
    const pkt = (over: Partial<ControlPacket>): Buffer =>
      encodeControl({ diag: 0, state: BfdState.Down, poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscr: 4242, yourDiscr: 0, desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0, ...over });
    const send = (s: NativeUdpSocket, b: Buffer): number => s.send(b, '127.0.0.1', port);
    send(liar64, pkt({})); // TTL 64
    const v2 = pkt({});
    v2[0] = 0x40;
    send(good255, v2);
    const dm0 = pkt({});
    dm0[2] = 0;
    send(good255, dm0);
    send(good255, pkt({ myDiscr: 0 }));
    send(good255, pkt({ state: BfdState.Up, yourDiscr: 0 }));
    send(good255, pkt({ yourDiscr: 12345, state: BfdState.Up }));
    send(good255, Buffer.alloc(3));
    const shortLen = pkt({});
    shortLen[3] = 10;
    send(good255, shortLen);
    await until('drops counted', () => Object.values(m.drops()).reduce((a, b) => a + b, 0) >= 8);
    const d = m.drops();
    assert.equal(d.ttl, 1);
    assert.equal(d.version, 1);
    assert.equal(d['detect-mult-zero'], 1);
    assert.equal(d['my-discriminator-zero'], 1);
    assert.equal(d['your-discriminator-zero'], 1);
    assert.equal(d['unknown-discriminator'], 1);
    assert.equal(d.short, 1);
    assert.equal(d.length, 1);
    assert.equal(m.status()[0]!.state, 'Down');

    // Now behave: Down -> the manager goes Init, then Up when we say Init/Up.
    send(good255, pkt({}));
    await until('manager Init', () => m.status()[0]!.state === 'Init');
    const discr = m.status()[0]!.localDiscr;
    send(good255, pkt({ state: BfdState.Up, yourDiscr: discr }));
    await until('manager Up', () => m.status()[0]!.state === 'Up');
    liar64.close();
    good255.close();
    // Silence: detection time (3 x 1 s: our last packet advertised the slow 1 s rate) -> Down.
    await until('manager Down after detection time', () => m.status()[0]!.state === 'Down', 6000);
    assert.equal(m.status()[0]!.localDiag, 'control detection time expired');
    assert.equal(m.status()[0]!.downEvents, 1);
  } finally {
    m.close();
    peer.close();
  }
});
