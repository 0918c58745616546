// Listening side of passive BGP sessions: one TCP listener per port (dual-stack "::" when the
// host has IPv6, else 0.0.0.0), accepting only the addresses of configured passive peers. A peer
// with a TCP-MD5 password needs the key on the listening socket (native addon): the listener is
// re-created when the set of keys changes (connections already accepted are not affected).

import net from 'node:net';
import { canonicalIP } from '../../ip/index.ts';
import { listenMd5 } from './index.ts';

export interface PassivePeer {
  /** Peer address as configured. */
  address: string;
  family: 4 | 6;
  password?: string;
  /** Called with an accepted connection from this address. */
  accept(sock: net.Socket): void;
}

export interface ListenerStatus {
  port: number;
  listening: boolean;
  error?: string;
}

/** "::ffff:10.0.0.1" -> "10.0.0.1", IPv6 canonical. */
export function remoteKey(addr: string | undefined): string {
  if (!addr) return '';
  const a = addr.toLowerCase().startsWith('::ffff:') && net.isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
  return canonicalIP(a) ?? a;
}

interface PortState {
  server?: net.Server;
  keysSig: string;
  peers: Map<string, PassivePeer>;
  error?: string;
  pending?: Promise<void>;
}

export class PassiveListeners {
  private readonly ports = new Map<number, PortState>();

  constructor(
    private readonly log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void },
    /** Listen address ("::" = every address, both families). */
    private readonly host = '::',
  ) {}

  status(): ListenerStatus[] {
    return [...this.ports].map(([port, st]) => ({ port, listening: st.server?.listening === true, ...(st.error ? { error: st.error } : {}) }));
  }

  /** Error of the listener of `port`, if it could not listen. */
  errorOf(port: number): string | undefined {
    return this.ports.get(port)?.error;
  }

  add(port: number, peer: PassivePeer, onError: (msg: string | undefined) => void): void {
    let st = this.ports.get(port);
    if (!st) {
      st = { keysSig: '', peers: new Map() };
      this.ports.set(port, st);
    }
    st.peers.set(remoteKey(peer.address), peer);
    this.reconcile(port, st, onError);
  }

  remove(port: number, address: string): void {
    const st = this.ports.get(port);
    if (!st) return;
    st.peers.delete(remoteKey(address));
    if (st.peers.size === 0) {
      this.ports.delete(port);
      st.server?.close();
      st.server = undefined;
    }
  }

  async close(): Promise<void> {
    const all = [...this.ports.values()];
    this.ports.clear();
    await Promise.all(all.map((st) => new Promise<void>((r) => (st.server ? st.server.close(() => r()) : r()))));
  }

  private keys(st: PortState): { address: string; key: string }[] {
    return [...st.peers.values()].filter((p) => p.password !== undefined && p.password !== '').map((p) => ({ address: p.address, key: p.password as string }));
  }

  private onConnection(port: number, sock: net.Socket): void {
    const st = this.ports.get(port);
    const who = remoteKey(sock.remoteAddress);
    const peer = st?.peers.get(who);
    if (!peer) {
      this.log.warn({ remote: who, port }, 'BGP connection from an address that is not a configured passive peer: refused');
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    peer.accept(sock);
  }

  private reconcile(port: number, st: PortState, onError: (msg: string | undefined) => void): void {
    const keys = this.keys(st);
    const sig = JSON.stringify(keys);
    if (st.server && sig === st.keysSig) {
      onError(st.error);
      return;
    }
    st.keysSig = sig;
    const old = st.server;
    st.server = undefined;
    const open = async (): Promise<void> => {
      if (old) await new Promise<void>((r) => old.close(() => r()));
      const handler = (s: net.Socket): void => this.onConnection(port, s);
      try {
        let srv: net.Server;
        if (keys.length > 0) {
          srv = await listenMd5({ host: this.host, port, family: this.host.includes(':') ? 6 : 4, keys }, handler);
        } else {
          srv = net.createServer(handler);
          await new Promise<void>((resolve, reject) => {
            srv.once('error', reject);
            srv.listen({ host: this.host, port, ipv6Only: false }, () => {
              srv.removeListener('error', reject);
              resolve();
            });
          });
        }
        srv.on('error', (e) => this.log.error({ port, err: e.message }, 'BGP listener error'));
        if (this.ports.get(port) !== st || st.keysSig !== sig) {
          srv.close();
          return;
        }
        st.server = srv;
        delete st.error;
        this.log.info({ port, host: this.host, peers: [...st.peers.keys()], md5: keys.length > 0 }, 'listening for passive BGP peers');
        onError(undefined);
      } catch (e) {
        st.error = `cannot listen on port ${port} for passive peers: ${(e as Error).message}`;
        this.log.error({ port }, st.error);
        onError(st.error);
      }
    };
    st.pending = (st.pending ?? Promise.resolve()).then(open);
  }
}
