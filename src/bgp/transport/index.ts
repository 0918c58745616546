// TCP transport for BGP sessions: net.connect, or (for TCP-MD5 / TTL) a socket prepared by the
// native addon and wrapped in net.Socket. Our own connect timeout: a SYN carrying a wrong MD5
// signature is silently dropped by the peer, the kernel would retry for minutes.

import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { tryLoadTcpAddon, NativeAddonError } from '../../native/tcp.ts';
import type { TcpAddon } from '../../native/tcp.ts';

export interface ConnectOptions {
  host: string;
  port: number;
  family: 4 | 6;
  /** Bind the local side to this address (only done when the address exists on this host). */
  localAddress?: string;
  /** TCP-MD5 (RFC 2385) key; needs the native addon. */
  password?: string;
  /** IP TTL / hop limit of our packets (1 for direct eBGP, 255 otherwise); needs the addon. */
  ttl?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Told about non-fatal degradations (TTL not settable, source address not local). */
  warn?: (msg: string) => void;
}

/** Injectable transport factory: resolves with a connected socket or rejects with a clear error. */
export type Connector = (opts: ConnectOptions) => Promise<net.Socket>;

export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Whether `addr` is configured on a local interface (so that bind() can succeed). */
export function isLocalAddress(addr: string): boolean {
  const want = net.isIP(addr) ? addr.toLowerCase() : undefined;
  if (!want) return false;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.address.toLowerCase() === want) return true;
  }
  return false;
}

function nativeSocket(addon: TcpAddon, opts: ConnectOptions, bindAddr: string | undefined): net.Socket {
  const fd = addon.socket(opts.family);
  try {
    // the key is bound to the address; a link-local peer's scope (fe80::1%eth0) is not part of it
    if (opts.password !== undefined && opts.password !== '') addon.setMd5(fd, opts.host.split('%')[0] ?? opts.host, opts.password);
    if (opts.ttl !== undefined) addon.setTtl(fd, opts.family, opts.ttl);
    if (bindAddr !== undefined) addon.bind(fd, bindAddr, 0);
  } catch (e) {
    try {
      addon.close(fd);
    } catch {
      /* already failing */
    }
    throw e;
  }
  return new net.Socket({ fd, readable: true, writable: true });
}

let ttlWarned = false;

/** The default Connector. */
export const tcpConnect: Connector = (opts) =>
  new Promise<net.Socket>((resolve, reject) => {
    if (!net.isIP(opts.host)) {
      reject(new TransportError(`peer address ${JSON.stringify(opts.host)} is not an IP address`, 'EINVAL'));
      return;
    }
    let bindAddr = opts.localAddress;
    if (bindAddr !== undefined && !isLocalAddress(bindAddr)) {
      opts.warn?.(`source address ${bindAddr} is not configured on this host: letting the kernel choose`);
      bindAddr = undefined;
    }
    const needMd5 = opts.password !== undefined && opts.password !== '';
    const wantNative = needMd5 || (opts.ttl !== undefined && opts.ttl !== 64);
    let sock: net.Socket;
    try {
      const addon = wantNative ? tryLoadTcpAddon() : undefined;
      if (addon instanceof NativeAddonError) {
        if (needMd5) throw new TransportError(`TCP-MD5 password configured but ${addon.message}`, addon.code);
        if (!ttlWarned) opts.warn?.(`cannot set TTL ${opts.ttl} (using the system default): ${addon.message}`);
        ttlWarned = true;
      }
      if (addon && !(addon instanceof NativeAddonError)) {
        sock = nativeSocket(addon, opts, bindAddr);
        sock.connect({ port: opts.port, host: opts.host });
      } else {
        sock = net.connect({ port: opts.port, host: opts.host, family: opts.family, ...(bindAddr ? { localAddress: bindAddr } : {}) });
      }
    } catch (e) {
      const err = e as Error & { code?: string };
      reject(err instanceof TransportError ? err : new TransportError(err.message, err.code ?? 'ERR_SOCKET'));
      return;
    }
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.removeListener('error', onError);
      sock.removeListener('connect', onConnect);
      if (err) {
        sock.destroy();
        reject(err);
      } else {
        sock.setNoDelay(true);
        resolve(sock);
      }
    };
    const onError = (e: Error & { code?: string }): void => finish(new TransportError(e.message, e.code ?? 'ERR_SOCKET'));
    const onConnect = (): void => finish();
    const onAbort = (): void => finish(new TransportError('connect aborted', 'ABORT_ERR'));
    const timer = setTimeout(
      () => finish(new TransportError(`connect to ${opts.host}:${opts.port} timed out after ${opts.timeoutMs} ms`, 'ETIMEDOUT')),
      opts.timeoutMs,
    );
    sock.once('error', onError);
    sock.once('connect', onConnect);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface Md5ListenOptions {
  host: string;
  port: number;
  family: 4 | 6;
  /** Peers allowed to connect and their keys. */
  keys: { address: string; key: string }[];
}

/**
 * A listening net.Server whose socket carries TCP-MD5 keys (used by the transport tests as an
 * MD5-protected peer; also the building block for a future passive mode).
 */
export function listenMd5(opts: Md5ListenOptions, onConnection: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    let fd = -1;
    const a = tryLoadTcpAddon();
    if (a instanceof NativeAddonError) {
      reject(a);
      return;
    }
    const addon: TcpAddon = a;
    try {
      fd = addon.socket(opts.family);
      for (const k of opts.keys) addon.setMd5(fd, k.address, k.key);
      addon.bind(fd, opts.host, opts.port);
      addon.listen(fd, 16);
    } catch (e) {
      if (fd >= 0) addon.close(fd);
      reject(e);
      return;
    }
    const srv = net.createServer(onConnection);
    srv.once('error', reject);
    srv.listen({ fd }, () => {
      srv.removeListener('error', reject);
      resolve(srv);
    });
  });
}
