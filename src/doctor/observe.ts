// What doctor observes on a live system: the sessions a running node reports on /status, and
// the processes listening on TCP port 179 on this machine (another BGP speaker, e.g. Calico's
// BIRD, holding the one session a router allows per node address).

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { formatValue } from '../ip/index.ts';
import { toViewModel } from '../ui/viewmodel.ts';
import type { Listener, ObservedSession } from './types.ts';

/** Reads a running standalone's or speaker's /status (base URL like http://127.0.0.1:7472). */
export async function observeStatus(baseUrl: string, timeoutMs = 5000): Promise<ObservedSession[]> {
  // the sessions only: counts instead of the route and Service lists (cheap on a big node)
  const url = baseUrl.replace(/\/+$/, '').replace(/\/status$/, '') + '/status?routes=count&services=count';
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const body: unknown = await res.json();
  // both publish NodeStatus sessions; only the Kubernetes speaker says configValid
  const isSpeaker = typeof body === 'object' && body !== null && typeof (body as { configValid?: unknown }).configValid === 'boolean';
  const vm = toViewModel(isSpeaker ? 'speaker' : 'standalone', body);
  return vm.sessions.map((s) => ({ node: vm.node ?? '?', peer: s.peer, state: s.state, lastError: s.lastError, peerRouterId: s.peerRouterId }));
}

/** Decodes /proc/net/tcp{,6} addresses (little-endian 32-bit words in hex). */
function procAddress(hex: string, family: 4 | 6): string {
  let v = 0n;
  for (let w = 0; w < hex.length / 8; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const bytes = word.match(/../g) ?? [];
    v = (v << 32n) | BigInt('0x' + bytes.reverse().join(''));
  }
  return formatValue(family, v);
}

/** TCP sockets in LISTEN state on `port`, with the owning process when /proc tells. */
export function listenersOn(port: number, procRoot = '/proc'): Listener[] {
  const found: { address: string; inode: string }[] = [];
  for (const [file, family] of [
    ['net/tcp', 4],
    ['net/tcp6', 6],
  ] as const) {
    let text = '';
    try {
      text = readFileSync(`${procRoot}/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [addr, portHex] = (f[1] ?? '').split(':');
      if (f[3] !== '0A' || !addr || !portHex || parseInt(portHex, 16) !== port) continue;
      found.push({ address: procAddress(addr, family), inode: f[9] ?? '' });
    }
  }
  if (found.length === 0) return [];
  const owner = new Map<string, { pid: number; process: string | null }>();
  const wanted = new Set(found.map((f) => `socket:[${f.inode}]`));
  for (const d of readdirSync(procRoot)) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${d}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${procRoot}/${d}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!wanted.has(link) || owner.has(link)) continue;
      let comm: string | null = null;
      try {
        comm = readFileSync(`${procRoot}/${d}/comm`, 'utf8').trim();
      } catch {
        // process gone
      }
      owner.set(link, { pid: Number(d), process: comm });
    }
  }
  return found.map((f) => {
    const o = owner.get(`socket:[${f.inode}]`);
    return { address: f.address, port, pid: o?.pid ?? null, process: o?.process ?? null };
  });
}
