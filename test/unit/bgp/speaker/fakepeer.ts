// A tiny in-process BGP peer for the speaker tests: listens on loopback, answers the OPEN,
// records every decoded message, and lets the test send raw bytes.
import net from 'node:net';
import { MessageFramer, decodeMessage, encodeMessage, isEndOfRib } from '../../../../src/bgp/codec/index.ts';
import type { BGPMessage, Capability, CodecOptions, OpenMessage, UpdateMessage } from '../../../../src/bgp/codec/messages.ts';
import type { Peer } from '../../../../src/config/types.ts';
import type { SessionPlan, PlannedRoute } from '../../../../src/planner/types.ts';
import { parsePrefix } from '../../../../src/ip/index.ts';
import { makePeer } from '../../helpers/peer.ts';

export interface FakePeerOptions {
  host?: string;
  asn?: number;
  bgpId?: number;
  holdTime?: number;
  capabilities?: Capability[];
  /** Do not answer the OPEN (to test OPEN errors, the test inspects what the speaker sends). */
  silent?: boolean;
  /** Answer the OPEN with this NOTIFICATION and close the connection (a router refusing us). */
  rejectOpen?: { code: number; subcode: number };
}

export interface Received {
  message: BGPMessage;
  raw: Uint8Array;
}

export class FakePeer {
  server!: net.Server;
  port = 0;
  conns: net.Socket[] = [];
  received: Received[] = [];
  connections = 0;
  private codec: CodecOptions = { fourOctetAS: true };
  private waiters: (() => void)[] = [];

  constructor(readonly opts: FakePeerOptions = {}) {}

  async start(): Promise<void> {
    this.server = net.createServer((s) => this.onConn(s));
    await new Promise<void>((r) => this.server.listen(0, this.opts.host ?? '127.0.0.1', () => r()));
    const a = this.server.address();
    if (!a || typeof a !== 'object') throw new Error('no address');
    this.port = a.port;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  get sock(): net.Socket | undefined {
    return this.conns[this.conns.length - 1];
  }

  openMessage(): OpenMessage {
    return {
      type: 1,
      version: 4,
      myAS: this.opts.asn ?? 64501,
      holdTime: this.opts.holdTime ?? 90,
      bgpId: this.opts.bgpId ?? 0x0a0000fe,
      capabilities: this.opts.capabilities ?? [
        { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
        { code: 1, kind: 'multiprotocol', afi: 2, safi: 1 },
        { code: 2, kind: 'route-refresh' },
        { code: 65, kind: 'four-octet-as', asn: this.opts.asn ?? 64501 },
      ],
    };
  }

  send(m: BGPMessage): void {
    this.sock?.write(encodeMessage(m, this.codec));
  }

  sendRaw(b: Uint8Array): void {
    this.sock?.write(b);
  }

  private onConn(s: net.Socket): void {
    this.connections++;
    this.conns.push(s);
    const framer = new MessageFramer();
    s.on('error', () => undefined);
    s.on('close', () => this.notify());
    s.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); f; f = framer.next()) {
        if (f.kind === 'error') throw new Error(`fake peer framing error: ${f.reason}`);
        const r = decodeMessage(f.type, f.body, this.codec);
        if (r.kind !== 'ok') throw new Error(`fake peer got a bad message: ${r.reason}`);
        this.received.push({ message: r.message, raw: f.raw });
        if (r.message.type === 1 && this.opts.rejectOpen) {
          s.end(encodeMessage({ type: 3, ...this.opts.rejectOpen, data: new Uint8Array(0) }, this.codec));
        } else if (r.message.type === 1 && !this.opts.silent) {
          s.write(encodeMessage(this.openMessage(), this.codec));
          s.write(encodeMessage({ type: 4 }, this.codec));
        }
      }
      this.notify();
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait until `cond` holds (re-checked on every received message), or fail after ms. */
  async waitFor<T>(what: string, cond: () => T | undefined | false, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = cond();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  updates(): UpdateMessage[] {
    return this.received.flatMap((r) => (r.message.type === 2 ? [r.message] : []));
  }

  /** UPDATE messages with their raw size. */
  updateFrames(): { m: UpdateMessage; size: number }[] {
    return this.received.flatMap((r) => (r.message.type === 2 ? [{ m: r.message, size: r.raw.length }] : []));
  }

  clear(): void {
    this.received = [];
  }
}

export function isEoR(u: UpdateMessage): boolean {
  return isEndOfRib(u) !== undefined;
}

export function peerConfig(port: number, over: Partial<Peer> = {}): Peer {
  const name = over.name ?? 'p1';
  return makePeer(name, '127.0.0.1', 64500, 64501, { file: 'test.yaml', line: 1, kind: 'BGPPeer', name }, { port, ...over });
}

export function route(prefix: string, over: Partial<PlannedRoute> = {}): PlannedRoute {
  return { prefix: parsePrefix(prefix), communities: [], largeCommunities: [], ...over };
}

export function plan(config: Peer, routes: PlannedRoute[], ebgp = true): SessionPlan {
  return { node: 'node1', peer: config.name, config, ebgp, routes };
}
