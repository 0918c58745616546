// Malformed OPEN/UPDATE/header from a peer: `metallb-ts standalone` (a real process) connects to
// raw-TCP fake peers written here, on 127.0.0.1 only (one listening port per case), which send
// hand-built bytes; the NOTIFICATION that comes back is checked against RFC 4271 §6 / RFC 7606.
// No root needed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { peerYaml } from '../lib/interop.ts';
import { waitFor } from '../lib/proc.ts';

const SPEAKER_AS = 65100;
const PEER_AS = 65000;

function msg(type: number, body: number[], opts: { marker?: number[]; length?: number } = {}): Buffer {
  const len = opts.length ?? 19 + body.length;
  return Buffer.from([...(opts.marker ?? Array(16).fill(0xff)), len >> 8, len & 0xff, type, ...body]);
}

function open(o: { version?: number; as?: number; hold?: number; id?: number[] } = {}): Buffer {
  const as = o.as ?? PEER_AS;
  const as2 = as > 0xffff ? 23456 : as;
  const hold = o.hold ?? 9;
  const caps = [
    ...[1, 4, 0, 1, 0, 1], // multiprotocol IPv4 unicast
    ...[65, 4, (as >>> 24) & 0xff, (as >>> 16) & 0xff, (as >>> 8) & 0xff, as & 0xff], // 4-octet AS
  ];
  const params = [2, caps.length, ...caps];
  return msg(1, [o.version ?? 4, as2 >> 8, as2 & 0xff, hold >> 8, hold & 0xff, ...(o.id ?? [10, 0, 0, 1]), params.length, ...params]);
}

const KEEPALIVE = msg(4, []);

/** An UPDATE: withdrawn routes length, attributes bytes, NLRI bytes; lengths can be forced. */
function update(o: { withdrawnLen?: number; withdrawn?: number[]; attrLen?: number; attrs?: number[]; nlri?: number[] }): Buffer {
  const w = o.withdrawn ?? [];
  const a = o.attrs ?? [];
  const wl = o.withdrawnLen ?? w.length;
  const al = o.attrLen ?? a.length;
  return msg(2, [wl >> 8, wl & 0xff, ...w, al >> 8, al & 0xff, ...a, ...(o.nlri ?? [])]);
}

const ORIGIN_IGP = [0x40, 1, 1, 0];
const AS_PATH_PEER = [0x40, 2, 6, 2, 1, 0, 0, PEER_AS >> 8, PEER_AS & 0xff];
const NEXT_HOP = [0x40, 3, 4, 127, 0, 0, 1];

interface Case {
  name: string;
  /** What the fake peer sends once the speaker's OPEN arrived. */
  onOpen: (s: Socket) => void;
  /** What it sends once the speaker's KEEPALIVE arrived (session up). */
  onKeepalive?: (s: Socket) => void;
  /** Expected [code, subcode]; undefined = no NOTIFICATION (treat-as-withdraw). */
  expect?: [number, number];
}

const CASES: Case[] = [
  { name: 'open-unsupported-version', onOpen: (s) => s.write(open({ version: 3 })), expect: [2, 1] },
  { name: 'open-bad-peer-as', onOpen: (s) => s.write(open({ as: 65001 })), expect: [2, 2] },
  { name: 'open-bad-bgp-id', onOpen: (s) => s.write(open({ id: [0, 0, 0, 0] })), expect: [2, 3] },
  { name: 'open-unacceptable-hold-time', onOpen: (s) => s.write(open({ hold: 2 })), expect: [2, 6] },
  { name: 'header-bad-marker', onOpen: (s) => s.write(Buffer.concat([msg(4, [], { marker: [...Array(15).fill(0xff), 0] })])), expect: [1, 1] },
  { name: 'header-bad-length', onOpen: (s) => s.write(msg(4, [0], { length: 18 })), expect: [1, 2] },
  { name: 'header-bad-type', onOpen: (s) => s.write(msg(42, [])), expect: [1, 3] },
  {
    name: 'update-withdrawn-length-overflow',
    onOpen: (s) => s.write(Buffer.concat([open(), KEEPALIVE])),
    onKeepalive: (s) => s.write(update({ withdrawnLen: 200, withdrawn: [24, 10, 9, 9] })),
    expect: [3, 1],
  },
  {
    name: 'update-attribute-length-overflow',
    onOpen: (s) => s.write(Buffer.concat([open(), KEEPALIVE])),
    onKeepalive: (s) => s.write(update({ attrLen: 300, attrs: [...ORIGIN_IGP, ...AS_PATH_PEER, ...NEXT_HOP] })),
    expect: [3, 1],
  },
  {
    // RFC 7606 §7.1: a malformed ORIGIN is treat-as-withdraw, the session stays up
    name: 'update-malformed-origin-treat-as-withdraw',
    onOpen: (s) => s.write(Buffer.concat([open(), KEEPALIVE])),
    onKeepalive: (s) => s.write(update({ attrs: [0x40, 1, 2, 0, 0, ...AS_PATH_PEER, ...NEXT_HOP], nlri: [24, 10, 9, 9] })),
  },
];

interface Peer {
  c: Case;
  server: Server;
  port: number;
  notifications: [number, number][];
  /** Set once onKeepalive ran (the bad UPDATE was sent). */
  sentUpdateAt?: number;
  sockets: Set<Socket>;
}

function startPeer(c: Case): Promise<Peer> {
  const peer: Peer = { c, server: createServer(), port: 0, notifications: [], sockets: new Set() };
  peer.server.on('connection', (s) => {
    peer.sockets.add(s);
    s.on('close', () => peer.sockets.delete(s));
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 19) {
        const len = buf.readUInt16BE(16);
        if (len < 19 || buf.length < len) break;
        const type = buf[18];
        const m = buf.subarray(0, len);
        buf = buf.subarray(len);
        if (type === 1) c.onOpen(s);
        else if (type === 4 && c.onKeepalive && peer.sentUpdateAt === undefined) {
          peer.sentUpdateAt = Date.now();
          c.onKeepalive(s);
        } else if (type === 3) peer.notifications.push([m[19] ?? -1, m[20] ?? -1]);
      }
    });
  });
  return listenLowPort(peer.server).then((port) => {
    peer.port = port;
    return peer;
  });
}

/** BGPPeer.peerPort is limited to 16384 (MetalLB's CRD): listen on a free port in 10000-16384. */
async function listenLowPort(server: Server): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10000 + Math.floor(Math.random() * 6384);
    const ok = await new Promise<boolean>((resolve) => {
      const onErr = (): void => resolve(false);
      server.once('error', onErr);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onErr);
        resolve(true);
      });
    });
    if (ok) return port;
  }
  throw new Error('no free port in 10000-16384 on 127.0.0.1');
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a ? a.port : 0;
}

describe('malformed messages from a peer get the right NOTIFICATION', { concurrency: false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlbt-notif-'));
  const peers: Peer[] = [];
  let sa: StandaloneProcess | undefined;

  before(async () => {
    for (const c of CASES) peers.push(await startPeer(c));
    const manifests = join(dir, 'manifests');
    writeManifest(
      manifests,
      'peers.yaml',
      peers
        .map((p) =>
          peerYaml({ name: p.c.name, myASN: SPEAKER_AS, peerASN: PEER_AS, peerAddress: '127.0.0.1', peerPort: p.port, ebgpMultiHop: true }),
        )
        .join('---\n'),
    );
    writeManifest(
      manifests,
      'pool.yaml',
      'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\n  namespace: metallb-system\nspec:\n  addresses:\n  - 198.51.100.0/30\n',
    );
    sa = new StandaloneProcess({
      manifests,
      statePath: join(dir, 'state.json'),
      node: 'n1',
      nodeAddress: '127.0.0.1',
      httpPort: await freePort(),
      logFile: join(dir, 'standalone.log'),
    });
    sa.start();
    await sa.waitReady();
  });

  after(async () => {
    await sa?.stop();
    for (const p of peers) {
      for (const s of p.sockets) s.destroy();
      await new Promise<void>((r) => p.server.close(() => r()));
    }
    if (!process.env.MLBT_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(c.expect ? `${c.name}: NOTIFICATION ${c.expect[0]}/${c.expect[1]}` : `${c.name}: no NOTIFICATION, session stays Established`, async () => {
      const p = peers.find((x) => x.c === c);
      assert.ok(p);
      if (c.expect) {
        const first = await waitFor(`NOTIFICATION for ${c.name}`, () => p.notifications[0], 20000, 20);
        assert.deepEqual(first, c.expect);
      } else {
        await waitFor(`bad UPDATE sent for ${c.name}`, () => p.sentUpdateAt, 20000, 20);
        // The speaker has decoded and handled it once its /status counts the UPDATE; a
        // NOTIFICATION would have been sent (and the session left Established) right then.
        const speaker = await waitFor(`the UPDATE counted in /status for ${c.name}`, async () => {
          const x = (await sa?.status())?.sessions.find((s) => s.peer === c.name)?.speaker;
          return (x?.counters?.updatesReceived ?? 0) >= 1 ? x : undefined;
        }, 20000, 20);
        assert.equal(speaker?.state, 'Established');
        assert.deepEqual(p.notifications, []);
      }
    });
  }
});
