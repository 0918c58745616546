// Loader for the metallb_tcp native addon (native/tcp.cc): TCP_MD5SIG, IP_TTL, bind on a raw
// TCP socket fd that is then handed to net.Socket. Built by `npm run build:native`.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TcpAddon {
  /** New non-blocking, close-on-exec TCP socket; returns the fd. */
  socket(family: 4 | 6): number;
  /** RFC 2385 TCP-MD5 key for segments to/from peerAddress; "" removes the key. */
  setMd5(fd: number, peerAddress: string, key: string): void;
  /** IP_TTL (IPv4) / IPV6_UNICAST_HOPS (IPv6). */
  setTtl(fd: number, family: 4 | 6, ttl: number): void;
  bind(fd: number, address: string, port: number): void;
  listen(fd: number, backlog: number): void;
  close(fd: number): void;
}

export class NativeAddonError extends Error {
  readonly code = 'ERR_NATIVE_TCP_MISSING';
  constructor(message: string) {
    super(message);
    this.name = 'NativeAddonError';
  }
}

let cached: TcpAddon | NativeAddonError | undefined;

function candidates(): string[] {
  // src/native/tcp.ts and dist/src/native/tcp.js both sit two or three levels below the root.
  const here = dirname(fileURLToPath(import.meta.url));
  const out: string[] = [];
  let dir = here;
  for (let i = 0; i < 5; i++) {
    out.push(join(dir, 'build', 'Release', 'metallb_tcp.node'));
    dir = dirname(dir);
  }
  return out;
}

/** The addon, or a NativeAddonError explaining how to build it. Never throws. */
export function tryLoadTcpAddon(): TcpAddon | NativeAddonError {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    cached = new NativeAddonError(`TCP-MD5/TTL support needs Linux (this is ${process.platform})`);
    return cached;
  }
  const require = createRequire(import.meta.url);
  const found = candidates().find((p) => existsSync(p));
  if (!found) {
    cached = new NativeAddonError(
      'native addon build/Release/metallb_tcp.node not found: run `npm run build:native` (needs python3, make, g++)',
    );
    return cached;
  }
  try {
    cached = require(found) as TcpAddon;
  } catch (e) {
    cached = new NativeAddonError(`cannot load ${found}: ${(e as Error).message}`);
  }
  return cached;
}

/** The addon; throws NativeAddonError with a clear message when it is missing. */
export function loadTcpAddon(): TcpAddon {
  const a = tryLoadTcpAddon();
  if (a instanceof NativeAddonError) throw a;
  return a;
}
