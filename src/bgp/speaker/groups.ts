// Update groups: sessions whose outbound policy is the same share one Adj-RIB-Out and one
// encoded UPDATE stream, so that memory and encoding cost grow with the number of distinct
// policies, not with the number of peers.
//
// A policy is everything that shapes the table on the wire: the routes (the same planned route
// list — the node runtime hands identical lists to sessions as one array), eBGP or iBGP, the
// local AS, the next hops (the session's local addresses and the node's), the negotiated
// families, the drain state, and the encoding options (4-octet AS). Sessions with an equal
// policy get the very same AdjRibOut object (tables are never modified in place: a change is a
// new table), and moving a session from table A to table B sends the bytes that were encoded
// the first time any session of the group made that move. A session that falls behind (it was
// down, or it is still at an older table) simply asks for another move and gets its own
// encoding, so no session ever waits for another.
//
// Caches are WeakMaps keyed by the route list and by the tables themselves: a table no session
// holds any more is collected together with everything encoded for it.

import type { NLRI, PathAttributes } from '../codec/messages.ts';
import type { AdjRibOut, RibContext, SkippedRoute } from './rib.ts';
import { buildRib, diffRib } from './rib.ts';
import type { BgpRoute } from './types.ts';

export interface BuiltRib {
  rib: AdjRibOut;
  skipped: SkippedRoute[];
}

/** The UPDATE messages that move a peer from one table to another, with what they carry. */
export interface EncodedMove {
  messages: Uint8Array[];
  announced: number;
  withdrawn: number;
  /** The move as prefixes (for debug logs): present only when it was computed here. */
  diff?: { announce: { attributes: PathAttributes; prefixes: NLRI[] }[]; withdraw: NLRI[] };
}

export interface UpdateGroupStats {
  /** Distinct tables built (one per policy and route list) since start. */
  tablesBuilt: number;
  /** Table requests answered with a table another session already had. */
  tablesShared: number;
  /** Moves encoded / moves answered from another session's encoding. */
  movesEncoded: number;
  movesShared: number;
}

/** The table every session starts from (never modified). */
export const EMPTY_RIB: AdjRibOut = new Map();

function ipKey(ip: { family: number; value: bigint } | undefined): string {
  return ip ? `${ip.family}:${ip.value.toString(16)}` : '-';
}

/** Canonical key of a RibContext: equal keys build identical tables from the same routes. */
export function policyKey(ctx: RibContext): string {
  return [
    ctx.ebgp ? 'e' : 'i',
    ctx.localASN,
    ipKey(ctx.localAddress[4]),
    ipKey(ctx.localAddress[6]),
    ipKey(ctx.otherAddress?.[4]),
    ipKey(ctx.otherAddress?.[6]),
    ctx.families.map((f) => `${f.afi}/${f.safi}`).join(','),
    ctx.gracefulShutdown === true ? 'gshut' : '',
    ctx.linkNextHops ? `link:${ctx.linkNextHops.map(ipKey).join(',')}:${ctx.extendedNextHop === true ? 'enhe' : ''}` : '',
  ].join('|');
}

export class UpdateGroups {
  private readonly tables = new WeakMap<readonly BgpRoute[], Map<string, BuiltRib>>();
  private readonly ids = new WeakMap<AdjRibOut, number>();
  private readonly moves = new WeakMap<AdjRibOut, Map<string, EncodedMove>>();
  private nextId = 1;
  private readonly counters: UpdateGroupStats = { tablesBuilt: 0, tablesShared: 0, movesEncoded: 0, movesShared: 0 };

  /** The table for `routes` under the policy `ctx`: the same object for every session sharing both. */
  table(routes: readonly BgpRoute[], ctx: RibContext): BuiltRib {
    let byPolicy = this.tables.get(routes);
    if (byPolicy === undefined) {
      byPolicy = new Map();
      this.tables.set(routes, byPolicy);
    }
    const key = policyKey(ctx);
    const hit = byPolicy.get(key);
    if (hit !== undefined) {
      this.counters.tablesShared++;
      return hit;
    }
    const built = buildRib(routes, ctx);
    byPolicy.set(key, built);
    this.counters.tablesBuilt++;
    return built;
  }

  /**
   * The UPDATEs that move a peer from table `from` to table `to` with the encoding options
   * `codecKey`; `encode` packs a difference into messages and runs once per distinct move.
   */
  move(
    from: AdjRibOut,
    to: AdjRibOut,
    codecKey: string,
    encode: (announce: { attributes: PathAttributes; prefixes: NLRI[] }[], withdraw: NLRI[]) => Uint8Array[],
  ): EncodedMove {
    let byFrom = this.moves.get(to);
    if (byFrom === undefined) {
      byFrom = new Map();
      this.moves.set(to, byFrom);
    }
    const key = `${this.idOf(from)}|${codecKey}`;
    const hit = byFrom.get(key);
    if (hit !== undefined) {
      this.counters.movesShared++;
      return { messages: hit.messages, announced: hit.announced, withdrawn: hit.withdrawn };
    }
    const diff = diffRib(from, to);
    const announced = diff.announce.reduce((n, g) => n + g.prefixes.length, 0);
    const messages = announced === 0 && diff.withdraw.length === 0 ? [] : encode(diff.announce, diff.withdraw);
    const move: EncodedMove = { messages, announced, withdrawn: diff.withdraw.length };
    byFrom.set(key, move);
    this.counters.movesEncoded++;
    return { ...move, diff };
  }

  stats(): UpdateGroupStats {
    return { ...this.counters };
  }

  private idOf(rib: AdjRibOut): number {
    let id = this.ids.get(rib);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(rib, id);
    }
    return id;
  }
}
