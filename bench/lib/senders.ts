// The three senders compared by the benchmarks, behind one interface: metallb-ts standalone
// (the implementation under test), GoBGP (the reference) and BIRD (a second reference).
// Each runs in the lab's sender namespace, holds N /32 routes from 198.18.0.0 BEFORE its
// session can come up (the receiver is started afterwards), and connects actively.

import { join } from 'node:path';
import { Bird } from './bird.ts';
import type { BirdBfd, BirdPeer } from './bird.ts';
import { Gobgp, writeMrt } from './gobgp.ts';
import type { Lab } from './netns.ts';
import { Metallb } from './metallbts.ts';
import { BenchError, waitFor } from './proc.ts';

export const IMPLS = ['metallb-ts', 'metallb-ts-speaker', 'gobgp', 'bird'] as const;
/** Compared by default (metallb-ts-speaker on request: the speaker alone, no standalone mode). */
export const DEFAULT_IMPLS: Impl[] = ['metallb-ts', 'gobgp', 'bird'];
export type Impl = (typeof IMPLS)[number];

export const SENDER_AS = 65010;
export const RECEIVER_AS = 65002;

export function isImpl(s: string): s is Impl {
  return (IMPLS as readonly string[]).includes(s);
}

export interface SenderOptions {
  lab: Lab;
  n: number;
  /** Receiver addresses to open one session each to (default: the lab's rxAddr). */
  receivers?: string[];
  holdTime?: number;
  keepaliveTime?: number;
  /** metallb-ts: pool size (default n). */
  poolSize?: number;
  /** Run BFD with the receiver (metallb-ts: a BFDProfile; BIRD: protocol bfd). GoBGP has none. */
  bfd?: BirdBfd;
}

export interface Sender {
  impl: Impl;
  pid: number;
  /** Starts the sender and waits until it holds all N routes (sessions not up yet). */
  start(): Promise<void>;
  /** Number of sessions the sender reports Established (for failure detection). */
  establishedCount(): Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  metallb?: Metallb;
  gobgp?: Gobgp;
}

export function makeSender(impl: Impl, o: SenderOptions): Sender {
  const receivers = o.receivers ?? [o.lab.rxAddr];
  const dir = join(o.lab.dir, `sender-${impl}`);
  switch (impl) {
    case 'gobgp': {
      const g = new Gobgp({
        ns: o.lab.txNs,
        dir,
        asn: SENDER_AS,
        routerId: o.lab.txAddr,
        peers: receivers.map((r) => ({ neighbor: r, neighborAs: RECEIVER_AS, local: o.lab.txAddr, passive: false, holdTime: o.holdTime, keepaliveTime: o.keepaliveTime })),
      });
      return {
        impl,
        gobgp: g,
        get pid() {
          return g.pid;
        },
        start: async () => {
          await g.start();
          if (o.n > 0) {
            const mrt = join(dir, 'routes.mrt');
            writeMrt(mrt, o.n, o.lab.txAddr, o.lab.txAddr, SENDER_AS);
            await g.inject(o.n, mrt);
          }
        },
        establishedCount: async () => {
          let c = 0;
          for (const r of receivers) if (await g.established(r)) c++;
          return c;
        },
        stop: (sig) => g.stop(sig),
      };
    }
    case 'bird': {
      const peers: BirdPeer[] = receivers.map((r, i) => ({
        name: `rx${i}`,
        local: o.lab.txAddr,
        neighbor: r,
        neighborAs: RECEIVER_AS,
        passive: false,
        exportStatic: true,
        holdTime: o.holdTime,
        keepaliveTime: o.keepaliveTime,
        disabled: true,
        bfd: o.bfd !== undefined,
      }));
      const b = new Bird({ ns: o.lab.txNs, dir, routerId: o.lab.txAddr, asn: SENDER_AS, peers, staticRoutes: o.n, ...(o.bfd ? { bfd: o.bfd } : {}) });
      return {
        impl,
        get pid() {
          return b.pid;
        },
        start: async () => {
          await b.start();
          await waitFor('BIRD sender static routes', async () => ((await b.routeCount()) >= o.n ? true : undefined), 300000, 100);
          for (const p of peers) await b.enable(p.name);
        },
        establishedCount: async () => {
          let c = 0;
          for (const p of peers) if ((await b.protocol(p.name)).established) c++;
          return c;
        },
        stop: (sig) => b.stop(sig),
      };
    }
    case 'metallb-ts':
    case 'metallb-ts-speaker': {
      const m = new Metallb({
        speakerOnly: impl === 'metallb-ts-speaker',
        ns: o.lab.txNs,
        dir,
        node: 'bench-node',
        nodeAddress: o.lab.txAddr,
        myASN: SENDER_AS,
        peers: receivers.map((r, i) => ({ name: `rx${i}`, address: r, peerASN: RECEIVER_AS })),
        poolSize: o.poolSize ?? Math.max(1, o.n),
        holdTime: o.holdTime,
        keepaliveTime: o.keepaliveTime,
        connectTime: 1,
        ...(o.bfd ? { bfd: o.bfd } : {}),
      });
      return {
        impl,
        metallb: m,
        get pid() {
          return m.pid;
        },
        start: async () => {
          if (!m.opts.speakerOnly) m.writeFolder(o.n);
          await m.start();
          // the speaker child builds its plan before it serves /healthz
          if (m.opts.speakerOnly) return;
          await waitFor(
            `metallb-ts to plan ${o.n} routes per session`,
            async () => {
              const s = await m.status();
              if (!s) return undefined;
              if (s.sessions.length < receivers.length) return undefined;
              return s.sessions.every((x) => x.routes >= o.n) ? true : undefined;
            },
            600000,
            o.n >= 50000 ? 2000 : 250,
          );
        },
        establishedCount: async () => {
          const s = await m.status();
          if (!s) throw new BenchError('metallb-ts /status unavailable');
          return s.sessions.filter((x) => x.established).length;
        },
        stop: (sig) => m.stop(sig),
      };
    }
  }
}

/** A BIRD receiver in the lab's rx namespace with one passive protocol "tx0" on `local`. */
export function makeReceiver(lab: Lab, local: string = lab.rxAddr, opts: { holdTime?: number; keepaliveTime?: number; index?: number; strictBind?: boolean; bfd?: BirdBfd } = {}): Bird {
  return new Bird({
    ns: lab.rxNs,
    dir: join(lab.dir, `receiver${opts.index ?? ''}`),
    routerId: local,
    asn: RECEIVER_AS,
    strictBind: opts.strictBind,
    ...(opts.bfd ? { bfd: opts.bfd } : {}),
    peers: [{ name: 'tx0', local, neighbor: lab.txAddr, neighborAs: SENDER_AS, passive: true, holdTime: opts.holdTime, keepaliveTime: opts.keepaliveTime, bfd: opts.bfd !== undefined }],
  });
}

/** One BIRD per receiver address (BIRD 2 allows only one session per neighbor address per
 * process: its TCP object lock is keyed by the neighbor, not the local address). */
export function makeReceivers(lab: Lab, locals: string[]): Bird[] {
  return locals.map((local, i) => makeReceiver(lab, local, { index: i, strictBind: locals.length > 1 }));
}
