// Loader for the metallb_udp native addon (native/udp.cc): UDP sockets that send with a chosen
// TTL / hop limit and report the TTL / hop limit of every received datagram (IP_RECVTTL /
// IPV6_RECVHOPLIMIT), which Node's dgram cannot. Used by BFD (src/bfd/udp.ts). Linux only.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Called for every received datagram; ttl is -1 when the kernel did not report it. */
export type UdpMessageHandler = (data: Buffer, fromAddress: string, fromPort: number, ttl: number) => void;

export interface NativeUdpSocket {
  /** Sends one datagram; returns bytes sent. Throws an Error with `code` (errno name). */
  send(data: Buffer, address: string, port: number): number;
  readonly localPort: number;
  /** Idempotent. */
  close(): void;
}

export interface UdpAddon {
  /**
   * family 4|6, local address ("" = any), local port (0 = kernel's choice), TTL / hop limit for
   * sent datagrams, SO_BINDTODEVICE interface ("" = none), receive callback (null = send only).
   * Throws an Error with `code` = errno name (EADDRINUSE, ...) on failure.
   */
  UdpSocket: new (family: 4 | 6, address: string, port: number, sendTtl: number, device: string, onMessage: UdpMessageHandler | null) => NativeUdpSocket;
}

export class UdpAddonError extends Error {
  readonly code = 'ERR_NATIVE_UDP_MISSING';
  constructor(message: string) {
    super(message);
    this.name = 'UdpAddonError';
  }
}

let cached: UdpAddon | UdpAddonError | undefined;

/** The addon, or a UdpAddonError that says how to build it. Never throws. */
export function tryLoadUdpAddon(): UdpAddon | UdpAddonError {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    cached = new UdpAddonError(`BFD needs Linux (IP_RECVTTL / IPV6_RECVHOPLIMIT); this is ${process.platform}`);
    return cached;
  }
  // src/native and dist/native sit a few levels below the root that holds build/ (the bench's
  // compiled copy under node_modules/.cache/… further down): look upwards.
  const found = [];
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 6; i++, dir = dirname(dir)) {
    for (const b of ['Release', 'Debug']) found.push(join(dir, 'build', b, 'metallb_udp.node'));
  }
  const path = found.find((p) => existsSync(p));
  if (!path) {
    cached = new UdpAddonError('native addon build/Release/metallb_udp.node not found: BFD needs it; run `npm run build:native` (needs python3, make, g++)');
    return cached;
  }
  try {
    cached = createRequire(import.meta.url)(path) as UdpAddon;
  } catch (e) {
    cached = new UdpAddonError(`cannot load ${path}: ${(e as Error).message}`);
  }
  return cached;
}

/** The addon; throws UdpAddonError with a clear message when it is missing. */
export function loadUdpAddon(): UdpAddon {
  const a = tryLoadUdpAddon();
  if (a instanceof UdpAddonError) throw a;
  return a;
}
