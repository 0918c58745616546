// Speaker liveness protocol, pure part: the authenticated message format and the member table
// (who is alive, what each member says it cannot announce), driven by an injected clock.
//
// Wire format of one UDP datagram:
//   "ML2" | version (1) | HMAC-SHA256(secret, "ML2" | version | body) (32 bytes) | body
//   body = UTF-8 JSON {"n": node, "b": boot id, "s": seq, "t": unix ms, "x": [ineligible IPs],
//                      "r": 1 once it has its services loaded (ready to be elected), "l": 1 if leaving,
//                      "a": [IPs it answers ARP/NDP for as their owner] (optional; the handover confirmation),
//                      "h": [IPs it still answers while handing them over] (optional; see handover.ts)}
// Every speaker sends one to every other member each probe interval (200 ms by default).
//
// Acceptance (MemberTable.accept): valid HMAC (constant-time compare) with the shared secret;
// sender is a known member other than ourselves; |now - t| <= maxSkew; and against replay:
// same boot id => seq strictly greater than the last accepted one; new boot id => t strictly
// greater than the last accepted timestamp of that member. A member is alive while its last
// accepted message is younger than deadAfter (1000 ms default: 5 missed probes), and dead at
// once when it says it is leaving. A member that said it is leaving stays "left" until it says
// otherwise: it no longer counts towards the quorum (it left on purpose, it is not partitioned).
// What a member answers for ("a" + "h") is believed while its last message is younger than
// deadAfter, even when it is leaving (it keeps answering while it hands its addresses over).

import { createHmac, timingSafeEqual } from 'node:crypto';

export const GOSSIP_MAGIC = Buffer.from('ML2', 'latin1');
export const GOSSIP_VERSION = 1;
const HEADER = 4;
const MAC_LEN = 32;
export const MAX_DATAGRAM = 65000;

export interface GossipMessage {
  node: string;
  boot: string;
  seq: number;
  ts: number;
  /** IPs this node cannot announce now (no usable interface). */
  ineligible: string[];
  /** The sender has loaded its services and interfaces: its ineligible list is meaningful. */
  ready: boolean;
  leaving: boolean;
  /** IPs the sender answers ARP/NDP for right now as their owner (an old owner waits for this). */
  announcing: string[];
  /** IPs the sender still answers while handing them over to their new owner (absent: none). */
  handingOver?: string[];
}

export class GossipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GossipError';
  }
}

function mac(secret: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function encodeGossip(msg: GossipMessage, secret: Buffer): Buffer {
  const body = Buffer.from(
    JSON.stringify({
      n: msg.node, b: msg.boot, s: msg.seq, t: msg.ts, x: msg.ineligible,
      ...(msg.ready ? { r: 1 } : {}), ...(msg.leaving ? { l: 1 } : {}), ...(msg.announcing.length > 0 ? { a: msg.announcing } : {}),
      ...(msg.handingOver && msg.handingOver.length > 0 ? { h: msg.handingOver } : {}),
    }),
    'utf8',
  );
  const head = Buffer.concat([GOSSIP_MAGIC, Buffer.from([GOSSIP_VERSION])]);
  const out = Buffer.concat([head, mac(secret, Buffer.concat([head, body])), body]);
  if (out.length > MAX_DATAGRAM) throw new GossipError(`gossip message of ${out.length} bytes exceeds ${MAX_DATAGRAM}`);
  return out;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Verifies and decodes one datagram. Throws GossipError saying what is wrong. */
export function decodeGossip(data: Buffer, secret: Buffer): GossipMessage {
  if (data.length < HEADER + MAC_LEN + 2) throw new GossipError(`datagram too short (${data.length} bytes)`);
  if (!data.subarray(0, 3).equals(GOSSIP_MAGIC)) throw new GossipError('bad magic');
  if (data[3] !== GOSSIP_VERSION) throw new GossipError(`unsupported version ${data[3]}`);
  const got = data.subarray(HEADER, HEADER + MAC_LEN);
  const body = data.subarray(HEADER + MAC_LEN);
  const want = mac(secret, Buffer.concat([data.subarray(0, HEADER), body]));
  if (!timingSafeEqual(got, want)) throw new GossipError('bad HMAC (wrong secret or tampered message)');
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GossipError('body is not JSON');
  }
  if (typeof v !== 'object' || v === null) throw new GossipError('body is not an object');
  const o = v as Record<string, unknown>;
  if (typeof o.n !== 'string' || o.n === '') throw new GossipError('missing node name');
  if (typeof o.b !== 'string') throw new GossipError('missing boot id');
  if (typeof o.s !== 'number' || !Number.isSafeInteger(o.s) || o.s < 0) throw new GossipError('bad sequence number');
  if (typeof o.t !== 'number' || !Number.isFinite(o.t)) throw new GossipError('bad timestamp');
  if (!isStringArray(o.x)) throw new GossipError('bad ineligible list');
  if (o.a !== undefined && !isStringArray(o.a)) throw new GossipError('bad announcing list');
  if (o.h !== undefined && !isStringArray(o.h)) throw new GossipError('bad handing-over list');
  return { node: o.n, boot: o.b, seq: o.s, ts: o.t, ineligible: o.x, ready: o.r === 1, leaving: o.l === 1, announcing: o.a ?? [], ...(o.h !== undefined ? { handingOver: o.h } : {}) };
}

export interface MemberState {
  name: string;
  alive: boolean;
  /** Local clock (ms) of the last accepted message; undefined = never heard. */
  lastHeard?: number;
  boot?: string;
  seq: number;
  lastTs: number;
  ineligible: ReadonlySet<string>;
  /** What it said it answers for as the owner in its last message. */
  announcing: ReadonlySet<string>;
  /** What it said it still answers while handing it over. */
  handingOver: ReadonlySet<string>;
  /** Its last message is younger than deadAfter (true also while it is leaving). */
  heard: boolean;
  ready: boolean;
  left: boolean;
}

export interface MemberTableOptions {
  deadAfterMs?: number;
  maxSkewMs?: number;
}

export type AcceptResult = { ok: true; changed: boolean } | { ok: false; reason: string };

const EMPTY: ReadonlySet<string> = new Set();

export class MemberTable {
  readonly self: string;
  readonly deadAfterMs: number;
  readonly maxSkewMs: number;
  private members = new Map<string, MemberState>();

  constructor(self: string, opts: MemberTableOptions = {}) {
    this.self = self;
    this.deadAfterMs = opts.deadAfterMs ?? 1000;
    this.maxSkewMs = opts.maxSkewMs ?? 10_000;
  }

  /** Sets the candidate members (from Kubernetes or the standalone config); self is implied. */
  setMembers(names: readonly string[]): void {
    const next = new Map<string, MemberState>();
    for (const n of names) {
      if (n === this.self || next.has(n)) continue;
      next.set(n, this.members.get(n) ?? { name: n, alive: false, seq: 0, lastTs: 0, ineligible: EMPTY, announcing: EMPTY, handingOver: EMPTY, heard: false, ready: false, left: false });
    }
    this.members = next;
  }

  names(): string[] {
    return [this.self, ...this.members.keys()].sort();
  }

  /** Validates a decoded message against membership, clock skew and replay; records it. */
  accept(msg: GossipMessage, now: number): AcceptResult {
    if (msg.node === this.self) return { ok: false, reason: 'message claims to be from this node' };
    const m = this.members.get(msg.node);
    if (!m) return { ok: false, reason: `unknown member ${msg.node}` };
    if (Math.abs(now - msg.ts) > this.maxSkewMs) return { ok: false, reason: `timestamp off by ${Math.round(now - msg.ts)} ms` };
    if (m.boot === msg.boot) {
      if (msg.seq <= m.seq) return { ok: false, reason: `replayed or reordered sequence ${msg.seq} <= ${m.seq}` };
    } else if (m.boot !== undefined && msg.ts <= m.lastTs) {
      return { ok: false, reason: 'stale message from a previous boot' };
    }
    const wasAlive = this.isAlive(m, now);
    const oldInel = m.ineligible;
    const oldReady = m.ready;
    const oldAnnouncing = m.announcing;
    const oldHanding = m.handingOver;
    const oldHeard = m.heard;
    const oldLeft = m.left;
    m.boot = msg.boot;
    m.seq = msg.seq;
    m.lastTs = msg.ts;
    m.lastHeard = now;
    m.left = msg.leaving;
    m.ineligible = new Set(msg.ineligible);
    m.ready = msg.ready;
    m.announcing = new Set(msg.announcing);
    m.handingOver = new Set(msg.handingOver ?? []);
    m.heard = true;
    const aliveNow = this.isAlive(m, now);
    m.alive = aliveNow;
    const changed =
      wasAlive !== aliveNow || oldHeard !== m.heard || oldReady !== m.ready || oldLeft !== m.left ||
      !sameSet(oldInel, m.ineligible) || !sameSet(oldAnnouncing, m.announcing) || !sameSet(oldHanding, m.handingOver);
    return { ok: true, changed };
  }

  /** Its last message is younger than deadAfter (whether or not it is leaving). */
  private isHeard(m: MemberState, now: number): boolean {
    return m.lastHeard !== undefined && now - m.lastHeard < this.deadAfterMs;
  }

  private isAlive(m: MemberState, now: number): boolean {
    return !m.left && this.isHeard(m, now);
  }

  /** Re-evaluates timeouts; returns true when some member's liveness (or being heard) changed. */
  tick(now: number): boolean {
    let changed = false;
    for (const m of this.members.values()) {
      const a = this.isAlive(m, now);
      const h = this.isHeard(m, now);
      if (a !== m.alive || h !== m.heard) {
        m.alive = a;
        m.heard = h;
        changed = true;
      }
    }
    return changed;
  }

  /** Alive members including self, sorted. */
  alive(): string[] {
    return [this.self, ...[...this.members.values()].filter((m) => m.alive).map((m) => m.name)].sort();
  }

  /** True when the member said it has its services loaded (only then may it be elected). */
  isReady(name: string): boolean {
    return this.members.get(name)?.ready ?? false;
  }

  /** The alive members that say they answer for `ip` as its owner (handover confirmation). */
  announcersOf(ip: string): string[] {
    return [...this.members.values()].filter((m) => m.alive && m.announcing.has(ip)).map((m) => m.name).sort();
  }

  /** Whether another member still heard (alive, or leaving) says it answers for `ip` (as owner or handing over). */
  othersAnswer(ip: string): boolean {
    for (const m of this.members.values()) if (m.heard && (m.announcing.has(ip) || m.handingOver.has(ip))) return true;
    return false;
  }

  /** The members that count for the quorum (self included): every member except those that left on purpose. */
  quorumMembers(): string[] {
    return [this.self, ...[...this.members.values()].filter((m) => !m.left).map((m) => m.name)].sort();
  }

  ineligibleOf(name: string): ReadonlySet<string> {
    return this.members.get(name)?.ineligible ?? EMPTY;
  }

  states(): MemberState[] {
    return [...this.members.values()].map((m) => ({ ...m })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
